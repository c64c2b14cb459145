// YamlReader: strict, typed reading of one YAML mapping into config structs.
//
// Every key a struct reads is recorded; Finish() reports keys nobody read (a typo in a hospital's
// config must fail loudly, not be ignored) and the first wrong type, with the key's dotted path
// and its line in the file. Values keep their defaults when a key is absent.
//
//   YamlReader r(node, "train");
//   r.Read("epochs", &cfg.epochs);
//   YamlReader opt = r.Child("optimizer");   // nested mapping (absent: empty mapping)
//   ...; RETURN_IF_ERROR(opt.Finish()); RETURN_IF_ERROR(r.Finish());
//
// Thread-safety: not thread-safe; one reader per mapping. Ownership: holds a reference-counted
// yaml-cpp node, nothing else.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace fedsmear {

class YamlReader {
 public:
  // `path` is the dotted prefix used in messages ("" for the document root).
  YamlReader(YAML::Node node, std::string path);

  // Read scalar values or lists of scalars; absent keys leave *out unchanged.
  void Read(const std::string& key, bool* out);
  void Read(const std::string& key, int* out);
  void Read(const std::string& key, int64_t* out);
  void Read(const std::string& key, double* out);
  void Read(const std::string& key, std::string* out);
  void Read(const std::string& key, std::vector<std::string>* out);
  void Read(const std::string& key, std::vector<double>* out);
  void Read(const std::string& key, std::vector<int>* out);
  // A string that must be one of `allowed`.
  void ReadEnum(const std::string& key, const std::vector<std::string>& allowed, std::string* out);

  bool Has(const std::string& key) const;
  // The mapping's keys, in document order (empty when it is not a mapping).
  std::vector<std::string> Keys() const;
  // A nested mapping; an absent key yields an empty one. Call Finish() on it as well.
  YamlReader Child(const std::string& key);
  // Items of a sequence of mappings (e.g. a list of held-out sets).
  std::vector<YamlReader> ChildList(const std::string& key);

  // Records a semantic error found by the caller (e.g. "must be > 0") at key's location.
  void Fail(const std::string& key, const std::string& why);

  // First error, or unknown keys, or OK.
  Status Finish() const;

 private:
  std::string Where(const std::string& key) const;
  std::optional<YAML::Node> Find(const std::string& key);
  template <typename T>
  void ReadScalar(const std::string& key, const char* type_name, T* out);

  YAML::Node node_;
  std::string path_;
  std::set<std::string> seen_;
  Status error_;
};

// Parses a whole YAML file, converting yaml-cpp exceptions to Status.
Result<YAML::Node> LoadYamlFile(const std::string& path);

}  // namespace fedsmear
