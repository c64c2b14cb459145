#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace fedsmear {

Status InitLogging(const std::string& level, const std::string& component) {
  spdlog::level::level_enum parsed = spdlog::level::from_str(level);
  // from_str maps anything unknown to "off"; only accept "off" when asked for literally.
  if (parsed == spdlog::level::off && level != "off") {
    return InvalidArgument("unknown log level '" + level +
                           "' (use trace, debug, info, warn, error or off)");
  }
  auto logger = spdlog::stderr_color_mt(component.empty() ? "fedsmear" : component);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v");
  logger->set_level(parsed);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

}  // namespace fedsmear
