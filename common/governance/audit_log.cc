#include "common/governance/audit_log.h"
#include "common/unique_fd.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "common/file_util.h"
#include "common/sha256.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kZeroHash(64, '0');
constexpr int kAuditFormat = 2;
constexpr uint64_t kMaxLineBytes = 1 << 20;

std::string Canonical(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

using Fd = UniqueFd;  // common/unique_fd.h

Status Errno(const std::string& what, const std::string& path) {
  return IoError(what + " " + path + ": " + std::strerror(errno));
}

std::string NowIso() {
  auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

// Rotated files PATH.N by N.
std::map<uint64_t, std::string> Rotated(const std::string& path) {
  std::map<uint64_t, std::string> out;
  const fs::path p(path);
  const std::string prefix = p.filename().string() + ".";
  std::error_code ec;
  fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string n = name.substr(prefix.size());
    if (n.size() > 9 || !std::all_of(n.begin(), n.end(), ::isdigit)) continue;
    out[std::stoull(n)] = e.path().string();
  }
  return out;
}

struct Tail {
  uint64_t seq = 0;
  std::string hash = kZeroHash;
  bool empty = true;
  bool is_signed = false;
};

// The last entry of `path` (empty when the file is missing or empty).
Result<Tail> ReadTail(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Tail{};
    return Errno("cannot open audit log", path);
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return Errno("cannot stat audit log", path);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == 0) return Tail{};
  const uint64_t n = std::min(size, kMaxLineBytes + 1);
  std::string buf(n, '\0');
  if (::pread(fd.get(), buf.data(), n, static_cast<off_t>(size - n)) != static_cast<ssize_t>(n)) {
    return Errno("cannot read audit log", path);
  }
  if (buf.back() != '\n') {
    return FailedPrecondition("audit log " + path +
                              " ends with a torn line; move it aside (it is evidence) and restart");
  }
  const size_t start = buf.rfind('\n', buf.size() - 2);
  if (start == std::string::npos && n < size) {
    return FailedPrecondition("audit log " + path + " has a last line longer than 1 MiB");
  }
  const std::string line =
      buf.substr(start == std::string::npos ? 0 : start + 1,
                 buf.size() - 1 - (start == std::string::npos ? 0 : start + 1));
  json e = json::parse(line, nullptr, false);
  if (e.is_discarded() || !e.is_object() || !e.contains("seq") || !e["seq"].is_number_unsigned()) {
    return FailedPrecondition("audit log " + path +
                              " does not end with an audit entry; move it aside and restart");
  }
  return Tail{e["seq"].get<uint64_t>(), ToHex(Sha256Of(line)), false, e.contains("sig")};
}

// The chain's tail: the active file's last entry, else the newest rotated file's.
Result<Tail> ChainTail(const std::string& path) {
  ASSIGN_OR_RETURN(Tail tail, ReadTail(path));
  if (!tail.empty) return tail;
  auto rotated = Rotated(path);
  if (rotated.empty()) return tail;
  return ReadTail(rotated.rbegin()->second);
}

Result<std::unique_ptr<Fd>> LockChain(const std::string& path) {
  // Hidden, so that `fedsmear audit verify DIR/audit.jsonl*` does not pick it up.
  const fs::path p(path);
  const std::string lock = (p.parent_path() / ("." + p.filename().string() + ".lock")).string();
  auto fd = std::make_unique<Fd>(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (fd->get() < 0) return Errno("cannot open", lock);
  if (::flock(fd->get(), LOCK_EX) != 0) return Errno("cannot lock", lock);
  return fd;  // closing it releases the lock
}

}  // namespace

std::string WithThousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::vector<std::string> AuditFiles(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& [n, file] : Rotated(path)) out.push_back(file);
  if (fs::exists(path)) out.push_back(path);
  return out;
}

Result<AuditLog> AuditLog::Open(const std::string& path, uint64_t max_file_bytes, bool sync,
                                std::optional<AuditSigner> signer) {
  const fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty()) fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  ASSIGN_OR_RETURN(std::unique_ptr<Fd> lock, LockChain(path));
  ASSIGN_OR_RETURN(Tail tail, ChainTail(path));
  if (tail.is_signed && !signer) {
    return FailedPrecondition("audit log " + path +
                              " is signed, but no signing key is configured: unsigned entries "
                              "after signed ones would read as tampering (set signing_key_file)");
  }
  return AuditLog(path, std::max<uint64_t>(max_file_bytes, 4096), sync, std::move(signer));
}

Status AuditLog::Append(const std::string& kind, json fields) {
  ASSIGN_OR_RETURN(std::unique_ptr<Fd> lock, LockChain(path_));
  ASSIGN_OR_RETURN(Tail tail, ChainTail(path_));
  json entry = {{"format", kAuditFormat},
                {"seq", tail.seq + 1},
                {"time", NowIso()},
                {"kind", kind},
                {"fields", fields.is_object() ? std::move(fields) : json::object()},
                {"prev", tail.hash}};
  if (signer_) {
    entry["signer"] = signer_->public_hex();
    ASSIGN_OR_RETURN(std::string sig, signer_->Sign(Canonical(entry)));
    entry["sig"] = std::move(sig);
  }
  const std::string line = Canonical(entry) + "\n";
  std::error_code ec;
  const uint64_t size = fs::exists(path_, ec) ? fs::file_size(path_, ec) : 0;
  if (size > 0 && size + line.size() > max_file_bytes_) {
    auto rotated = Rotated(path_);
    const uint64_t next = rotated.empty() ? 1 : rotated.rbegin()->first + 1;
    const std::string to = path_ + "." + std::to_string(next);
    // EPERM: the file or its folder is append-only (chattr +a); the log then grows in place.
    if (::rename(path_.c_str(), to.c_str()) != 0 && errno != EPERM) {
      return Errno("cannot rotate audit log", path_);
    }
  }
  Fd fd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640));
  if (fd.get() < 0) return Errno("cannot open audit log", path_);
  if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    return Errno("cannot append to audit log", path_);
  }
  if (sync_ && ::fdatasync(fd.get()) != 0) return Errno("cannot sync audit log", path_);
  return Status::Ok();
}

}  // namespace fedsmear
