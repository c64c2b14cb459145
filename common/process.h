// ChildProcess: a program started with posix_spawn, owned by one object.
//
// Move-only. Destroying a still-running child sends SIGTERM, waits up to 5 s, then SIGKILLs it,
// so a simulation never leaves orphans behind. stdout and stderr go to a log file.
// Thread-safety: one thread per object.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace fedsmear {

class ChildProcess {
 public:
  // Starts `argv[0]` (a path) with `argv`, output appended to `log_path`.
  static Result<ChildProcess> Spawn(const std::vector<std::string>& argv,
                                    const std::string& log_path);
  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running();
  // Exit code once finished (128 + signal for a signalled child); nullopt while running.
  std::optional<int> exit_code();
  // Waits up to `timeout`; returns the exit code or nullopt if still running.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  void Signal(int sig);
  // SIGTERM, then SIGKILL after `grace`; returns the exit code.
  int Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

 private:
  void Reap(bool block);
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Finds a sibling program of the running executable: same folder, then the build tree's
// ../coordinator and ../client folders, then $PATH.
Result<std::string> FindProgram(const std::string& name);

}  // namespace fedsmear
