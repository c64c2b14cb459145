// A fresh, uniquely named folder under the system temp dir for one test, removed with
// everything in it when the object goes out of scope.
//
// Thread-safety: one owner; not shared between threads. Ownership: the folder belongs to the
// object (move-only). Names come from mkdtemp, so tests that run in parallel processes (ctest -j)
// never share a folder.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <utility>

namespace fedsmear::testing {

class TempDir {
 public:
  // `prefix` only makes leftovers recognisable when a test process is killed.
  explicit TempDir(const std::string& prefix = "fedsmear") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << tmpl;
    path_ = tmpl;
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // The path of `rel` inside the folder, as a string.
  std::string Sub(const std::string& rel) const { return (path_ / rel).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace fedsmear::testing
