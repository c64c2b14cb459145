#include "common/yaml_reader.h"

#include <filesystem>

namespace fedsmear {

YamlReader::YamlReader(YAML::Node node, std::string path)
    : node_(std::move(node)), path_(std::move(path)) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    error_ = InvalidArgument((path_.empty() ? std::string("document") : path_) +
                             ": expected a mapping (key: value lines)");
  }
}

std::string YamlReader::Where(const std::string& key) const {
  std::string where = path_.empty() ? key : path_ + "." + key;
  const YAML::Node& map = node_;
  if (map.IsMap() && map[key].IsDefined()) {
    where += " (line " + std::to_string(map[key].Mark().line + 1) + ")";
  }
  return where;
}

bool YamlReader::Has(const std::string& key) const {
  const YAML::Node& map = node_;
  return map.IsMap() && map[key].IsDefined() && !map[key].IsNull();
}

std::vector<std::string> YamlReader::Keys() const {
  std::vector<std::string> keys;
  const YAML::Node& map = node_;
  if (!map.IsMap()) return keys;
  for (const auto& kv : map) {
    if (kv.first.IsScalar()) keys.push_back(kv.first.Scalar());
  }
  return keys;
}

std::optional<YAML::Node> YamlReader::Find(const std::string& key) {
  seen_.insert(key);
  if (!Has(key)) return std::nullopt;
  const YAML::Node& map = node_;  // const access never inserts keys
  return map[key];
}

void YamlReader::Fail(const std::string& key, const std::string& why) {
  if (error_.ok()) error_ = InvalidArgument(Where(key) + ": " + why);
}

template <typename T>
void YamlReader::ReadScalar(const std::string& key, const char* type_name, T* out) {
  std::optional<YAML::Node> n = Find(key);
  if (!n) return;
  if (!n->IsScalar()) {
    Fail(key, std::string("expected ") + type_name);
    return;
  }
  try {
    *out = n->as<T>();
  } catch (const YAML::Exception&) {
    Fail(key, std::string("expected ") + type_name + ", got '" + n->Scalar() + "'");
  }
}

void YamlReader::Read(const std::string& key, bool* out) { ReadScalar(key, "true or false", out); }
void YamlReader::Read(const std::string& key, int* out) { ReadScalar(key, "an integer", out); }
void YamlReader::Read(const std::string& key, int64_t* out) { ReadScalar(key, "an integer", out); }
void YamlReader::Read(const std::string& key, double* out) { ReadScalar(key, "a number", out); }
void YamlReader::Read(const std::string& key, std::string* out) { ReadScalar(key, "a string", out); }

template <typename T>
static bool ReadList(const YAML::Node& n, std::vector<T>* out) {
  if (!n.IsSequence()) return false;
  std::vector<T> values;
  try {
    for (const auto& item : n) {
      if (!item.IsScalar()) return false;
      values.push_back(item.as<T>());
    }
  } catch (const YAML::Exception&) {
    return false;
  }
  *out = std::move(values);
  return true;
}

void YamlReader::Read(const std::string& key, std::vector<std::string>* out) {
  std::optional<YAML::Node> n = Find(key);
  if (n && !ReadList(*n, out)) Fail(key, "expected a list of strings");
}
void YamlReader::Read(const std::string& key, std::vector<double>* out) {
  std::optional<YAML::Node> n = Find(key);
  if (n && !ReadList(*n, out)) Fail(key, "expected a list of numbers");
}
void YamlReader::Read(const std::string& key, std::vector<int>* out) {
  std::optional<YAML::Node> n = Find(key);
  if (n && !ReadList(*n, out)) Fail(key, "expected a list of integers");
}

void YamlReader::ReadEnum(const std::string& key, const std::vector<std::string>& allowed,
                          std::string* out) {
  std::string value = *out;
  Read(key, &value);
  for (const auto& a : allowed) {
    if (a == value) {
      *out = value;
      return;
    }
  }
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  Fail(key, "'" + value + "' is not one of: " + list);
}

YamlReader YamlReader::Child(const std::string& key) {
  seen_.insert(key);
  std::string path = path_.empty() ? key : path_ + "." + key;
  if (!Has(key)) return YamlReader(YAML::Node(YAML::NodeType::Map), path);
  const YAML::Node& map = node_;
  return YamlReader(map[key], path);
}

std::vector<YamlReader> YamlReader::ChildList(const std::string& key) {
  seen_.insert(key);
  std::vector<YamlReader> items;
  if (!Has(key)) return items;
  const YAML::Node& map = node_;
  YAML::Node list = map[key];
  if (!list.IsSequence()) {
    Fail(key, "expected a list");
    return items;
  }
  std::string base = path_.empty() ? key : path_ + "." + key;
  for (size_t i = 0; i < list.size(); ++i) {
    items.emplace_back(list[i], base + "[" + std::to_string(i) + "]");
  }
  return items;
}

Status YamlReader::Finish() const {
  if (!error_.ok()) return error_;
  if (!node_.IsMap()) return Status::Ok();
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (seen_.count(key) == 0) {
      std::string where = path_.empty() ? key : path_ + "." + key;
      return InvalidArgument("unknown key '" + where + "' (line " +
                             std::to_string(kv.first.Mark().line + 1) + ")");
    }
  }
  return Status::Ok();
}

Result<YAML::Node> LoadYamlFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFound("config file '" + path + "' does not exist");
  }
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    return root;
  } catch (const YAML::Exception& e) {
    return InvalidArgument(path + ": YAML syntax error: " + e.what());
  }
}

}  // namespace fedsmear
