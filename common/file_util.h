// Whole-file reading and crash-safe writing.
//
// WriteFileAtomic writes to "<path>.tmp-<16 random hex digits>" (created with O_EXCL |
// O_NOFOLLOW and the given mode, less the umask, so a planted file or symlink is never written through), fsyncs
// it, renames it over `path` and fsyncs the directory, so a reader sees either the old or the new
// file, never a torn one. Use 0600 for anything derived from a site's data or a run's model
// (latent weights, checkpoints). Thread-safety:
// functions are reentrant; concurrent writers of one path race benignly (last rename wins).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace fedsmear {

// Reads a file; fails with kResourceExhausted when it is larger than max_bytes.
Result<std::string> ReadFile(const std::string& path, uint64_t max_bytes = UINT64_MAX);
Status WriteFileAtomic(const std::string& path, std::string_view bytes, unsigned mode = 0644);

}  // namespace fedsmear
