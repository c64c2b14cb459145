// The ZeroMQ endpoints' options read from the application configs: where to bind or connect,
// plain or CurveZMQ, and the key and allowlist files loaded. Kept apart from router.h and
// dealer.h so that the transport does not depend on the configuration.
// Reentrant functions; they read files and own nothing.
#pragma once

#include "common/config.h"
#include "common/net/dealer.h"
#include "common/net/router.h"
#include "common/status.h"

namespace fedsmear {

// The coordinator's bind, message cap, server keys and site allowlist (InvalidArgument when
// secure mode lacks a key or allowlist file, or max_message_mb is out of (0, 4096]).
Result<RouterOptions> RouterOptionsFromConfig(const CoordinatorConfig& config);
// The site's coordinator endpoint, its own keys and the coordinator's public key.
Result<DealerOptions> DealerOptionsFromConfig(const ClientConfig& config);

}  // namespace fedsmear
