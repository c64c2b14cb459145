// Network administration subcommands of the `fedsmear` tool.
//
// keygen: `fedsmear keygen --out DIR --name NAME [--force]` writes a CurveZMQ key pair as
// DIR/NAME.key (public+secret, mode 0600) and DIR/NAME.pub, an Ed25519 signing key pair (the
// site's secure-aggregation identity) as DIR/NAME.sign.key (mode 0600) and DIR/NAME.sign.pub, and
// prints the allowlist line "NAME <public key> <signing public key>" for the coordinator's
// allowed_sites file. Existing keys are never replaced without --force.
// Thread-safety: runs on main's thread only.
#pragma once

#include <CLI/CLI.hpp>

#include "common/net/keys.h"
#include "tools/command.h"

namespace fedsmear {

Command AddKeygenCommand(CLI::App& root);

// A fresh Ed25519 signing key pair in hex (the seed comes from the OS CSPRNG).
Result<SigningKeyHex> GenerateSigningKey();

}  // namespace fedsmear
