#include "client/process_slots.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

namespace fedsmear {

ProcessSlots::Held& ProcessSlots::Held::operator=(Held&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

ProcessSlots::Held::~Held() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

Result<ProcessSlots> ProcessSlots::Open(const std::string& dir, int slots) {
  if (slots < 1) return InvalidArgument("work slots must be >= 1");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  return ProcessSlots(dir, slots);
}

Result<ProcessSlots::Held> ProcessSlots::Acquire() const {
  for (;;) {
    for (int i = 0; i < slots_; ++i) {
      const std::string path = dir_ + "/slot-" + std::to_string(i);
      const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) return IoError("cannot open " + path + ": " + std::strerror(errno));
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return Held(fd);
      ::close(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Result<ProcessSlots> ParseWorkSlots(const std::string& spec) {
  const size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument("--work-slots wants DIR:N, got '" + spec + "'");
  }
  int n = 0;
  try {
    n = std::stoi(spec.substr(colon + 1));
  } catch (const std::exception&) {
    return InvalidArgument("--work-slots wants DIR:N, got '" + spec + "'");
  }
  return ProcessSlots::Open(spec.substr(0, colon), n);
}

}  // namespace fedsmear
