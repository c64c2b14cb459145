// Logging setup: one call from main() configures spdlog's default logger.
//
// Library code logs through spdlog's free functions (spdlog::info, ...). Levels accepted by
// --log-level: trace, debug, info, warn, error, off. Thread-safety: spdlog's default logger is
// thread-safe; call InitLogging once, before starting threads.
#pragma once

#include <string>

#include "common/status.h"

namespace fedsmear {

// Sets the level and a pattern that names the component (e.g. "coordinator", "site-a").
Status InitLogging(const std::string& level, const std::string& component);

}  // namespace fedsmear
