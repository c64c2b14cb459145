// UniqueFd: the one owner of a POSIX file or socket descriptor; closes it when destroyed.
// Move-only. Thread-safety: as an int (one owner, one thread at a time). Ownership: takes the
// descriptor it is constructed with (a negative value owns nothing).
#pragma once

#include <unistd.h>

#include <utility>

namespace fedsmear {

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

}  // namespace fedsmear
