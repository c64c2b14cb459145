// ReadJsonLines: the JSON objects of a .jsonl file (metrics.jsonl, inprocess.jsonl), for tests
// that read what a simulation wrote. Header-only, like tests/temp_dir.h.
// Thread-safety: a plain function. Ownership: returns values.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fedsmear::testing {

// Every line parsed; a malformed line throws (nlohmann::json::parse_error) unless
// `skip_malformed`, which is for files still being written (a half-written last line).
inline std::vector<nlohmann::json> ReadJsonLines(const std::filesystem::path& path,
                                                 bool skip_malformed = false) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!skip_malformed) {
      out.push_back(nlohmann::json::parse(line));
      continue;
    }
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

}  // namespace fedsmear::testing
