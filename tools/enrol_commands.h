// Enrolment subcommands of the `fedsmear` tool (docs/deploy.md section 1), thin wrappers over
// common/governance/enrolment.h and common/net/allowlist_edit.h:
//
//   fedsmear kit make --site-id ID --coordinator-endpoint tcp://HOST:PORT --out DIR
//       [--coordinator-key FILE] [--roster FILE] [--site-etc DIR] [--site-state DIR]
//       [--site-data DIR]                 the operator makes a site's kit; prints the
//                                         coordinator's fingerprint
//   fedsmear kit admit REQUEST --fingerprint FP [--allowlist FILE] [--replace]
//                                         adds the site's line once the fingerprint it read out
//                                         matches (--replace: key rotation)
//   fedsmear kit revoke SITE_ID [--allowlist FILE]
//   fedsmear kit fingerprint FILE|KIT_DIR  fingerprint of a .pub/.key, a request or a kit
//   fedsmear enrol --kit DIR [--config FILE] [--coordinator-fingerprint FP] [--new-key]
//       [--owner USER]                    the site installs its kit and makes its own keys
//
// The running coordinator reloads its allowlist by itself, so admit and revoke take effect
// without a restart. Exit codes: 0 done, 1 refused or failed (the reason on stderr).
// Thread-safety: runs on main's thread only.
#pragma once

#include <CLI/CLI.hpp>

#include "tools/command.h"

namespace fedsmear {

Command AddKitCommand(CLI::App& root);
Command AddEnrolCommand(CLI::App& root);

}  // namespace fedsmear
