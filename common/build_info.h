// The commit a binary was built from, for --version and run records: defined in a source file
// that cmake/build_info.cmake writes at every build, linked only into the three executables
// (library fedsmear_build_info), so a new commit relinks them and nothing else.
//
// Thread-safety: a constant. Ownership: a static string.
#pragma once

namespace fedsmear {

// "<12 hex digits>", with "-dirty" when tracked files differed from that commit, or "unknown"
// when the build had no git checkout.
const char* BuildRevision();

}  // namespace fedsmear
