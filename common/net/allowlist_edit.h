// Edits of the coordinator's site allowlist file (format: common/net/keys.h): admit a site (add
// its line, or replace it to rotate its keys) and revoke one (take its line out). The running
// coordinator reloads the file by itself (common/net/zap.h), so neither needs a restart.
//
// Every other line, comment and blank line is kept as it was. A replaced or removed line stays
// in the file as a comment ("# rotated 2026-05-01T10:00:00Z: site-a <key> <sign>" or
// "# revoked ...: ..."), which records when a key stopped being accepted. The new text is
// parsed as an allowlist before it is written (a key listed under two ids is refused), then
// written to a temporary file that takes the old file's owner, group and mode (0640 for a new
// file) and is renamed over it, so the coordinator never reads half a file and keeps being able
// to open it.
//
// Thread-safety: reentrant functions; two concurrent edits of one file race (last rename wins).
// Ownership: plain values.
#pragma once

#include <string>

#include "common/net/keys.h"
#include "common/status.h"

namespace fedsmear {

enum class AllowlistChange { kAdded, kReplaced, kUnchanged, kRemoved };

// "site-id curve-key [sign-key]" (no newline).
std::string AllowlistLine(const AllowedSite& site);

// Adds `site`'s line (a missing file is created). When the site id is listed already:
// kUnchanged for the same keys, kReplaced with `replace`, else kFailedPrecondition naming
// --replace. InvalidArgument when the result would not be a valid allowlist.
Result<AllowlistChange> AdmitSite(const std::string& path, const AllowedSite& site, bool replace);

// Takes `site_id`'s line out (kRemoved); kNotFound when it is not listed.
Result<AllowlistChange> RevokeSite(const std::string& path, const std::string& site_id);

}  // namespace fedsmear
