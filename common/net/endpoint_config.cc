// RouterOptionsFromConfig and DealerOptionsFromConfig (common/net/endpoint_config.h).
#include "common/net/endpoint_config.h"

#include <cmath>

#include "common/net/keys.h"

namespace fedsmear {

Result<RouterOptions> RouterOptionsFromConfig(const CoordinatorConfig& config) {
  RouterOptions options;
  options.endpoint = config.bind;
  options.insecure = config.insecure;
  if (!(config.max_message_mb > 0) || config.max_message_mb > 4096) {
    return InvalidArgument("max_message_mb must be in (0, 4096]");
  }
  options.max_message_bytes = static_cast<int64_t>(std::llround(config.max_message_mb * 1048576));
  if (!config.insecure) {
    if (config.secret_key_file.empty() || config.allowed_sites_file.empty()) {
      return InvalidArgument(
          "secure mode needs secret_key_file and allowed_sites_file (or set insecure: true)");
    }
    ASSIGN_OR_RETURN(options.server_keys, LoadSecretKeyFile(config.secret_key_file));
    ASSIGN_OR_RETURN(options.allowed_sites, LoadAllowedSites(config.allowed_sites_file));
    options.allowed_sites_file = config.allowed_sites_file;  // reloaded when it changes
  }
  return options;
}

Result<DealerOptions> DealerOptionsFromConfig(const ClientConfig& config) {
  DealerOptions options;
  options.endpoint = config.coordinator;
  options.insecure = config.insecure;
  if (!config.insecure) {
    if (config.secret_key_file.empty() || config.coordinator_public_key_file.empty()) {
      return InvalidArgument(
          "secure mode needs secret_key_file and coordinator_public_key_file (or insecure: true)");
    }
    ASSIGN_OR_RETURN(options.client_keys, LoadSecretKeyFile(config.secret_key_file));
    ASSIGN_OR_RETURN(options.server_public_key,
                     LoadPublicKeyFile(config.coordinator_public_key_file));
  }
  return options;
}

}  // namespace fedsmear
