// The YAML loaders: every field comes from its struct's description (common/config.h,
// common/train_config.h) through settings::ReadSettings; what is left here are the checks
// across fields and the parts that are not one setting (lists of held-out sets, the separate
// policy file, relative paths).
#include "common/config.h"

#include <filesystem>

#include "common/settings/settings_yaml.h"
#include "common/yaml_reader.h"

namespace fedsmear {
namespace {

// Top-level keys that predate strategy_params; a strategy that declares one reads it
// (CoordinatorConfig::legacy_strategy_keys).
constexpr const char* kLegacyStrategyKeys[] = {"server_lr", "vote_momentum"};

}  // namespace

// Checks across fields (settings::CheckSettings), run by ReadSettings after each struct.
void CheckSettings(YamlReader& r, const ModelSpec& m) {
  if (!m.class_names.empty() && static_cast<int>(m.class_names.size()) != m.classes) {
    r.Fail("class_names", "has " + std::to_string(m.class_names.size()) +
                              " names but classes is " + std::to_string(m.classes));
  }
}

void CheckSettings(YamlReader& r, const PreprocessConfig& p) {
  if (p.mean.size() != 3) r.Fail("mean", "needs 3 values (R, G, B)");
  if (p.std.size() != 3) r.Fail("std", "needs 3 values (R, G, B)");
  for (double s : p.std) {
    if (!(s > 0)) r.Fail("std", "values must be > 0");
  }
}

void CheckSettings(YamlReader& r, const HttpEndpointConfig& h) {
  const size_t colon = h.bind.rfind(':');
  const std::string port = colon == std::string::npos ? "" : h.bind.substr(colon + 1);
  if (colon == 0 || port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
      port.size() > 5 || std::stoi(port) > 65535) {
    r.Fail("bind", "needs host:port (e.g. 127.0.0.1:9464; port 0 = any free port), not '" +
                       h.bind + "'");
  }
}

void CheckSettings(YamlReader&, const SitePolicy&) {
  // require_secure_aggregation (the default) without a roster loads, so that tools can read the
  // config; the site refuses to start with it (SecAggPolicy::FromConfig, secagg/site_policy.h).
}

void CheckSettings(YamlReader& r, const ClientConfig& c) {
  if (c.site_id.empty()) r.Fail("site_id", "is required");
}

namespace {

template <class T>
Status ReadSection(YamlReader r, T* out) {
  RETURN_IF_ERROR(settings::ReadSettings(r, out));
  return r.Finish();
}

Status ReadCoordinatorConfig(YamlReader& r, CoordinatorConfig* out) {
  CoordinatorConfig& c = *out;
  Status st = settings::ReadSettings(r, &c);
  for (const char* key : kLegacyStrategyKeys) {
    if (!r.Has(key)) continue;
    double value = 0;
    r.Read(key, &value);
    c.legacy_strategy_keys[key] = value;
  }
  for (YamlReader& h : r.ChildList("holdout")) {
    HoldoutSet set;
    h.Read("name", &set.name);
    h.Read("path", &set.path);
    if (set.path.empty()) h.Fail("path", "is required");
    if (set.name.empty()) set.name = set.path;
    if (st.ok()) st = h.Finish();
    c.holdout.push_back(set);
  }
  if (st.ok()) st = r.Finish();
  return st;
}

}  // namespace

Status ReadModelSpec(YamlReader r, ModelSpec* m) { return ReadSection(r, m); }
Status ReadTrainConfig(YamlReader r, TrainConfig* t) { return ReadSection(r, t); }
Status ReadPreprocessConfig(YamlReader r, PreprocessConfig* p) { return ReadSection(r, p); }

Result<CoordinatorConfig> LoadCoordinatorConfig(const std::string& path) {
  ASSIGN_OR_RETURN(YAML::Node root, LoadYamlFile(path));
  CoordinatorConfig c;
  YamlReader r(root, "");
  RETURN_IF_ERROR(ReadCoordinatorConfig(r, &c).WithContext(path));
  return c;
}

Status ApplySetting(CoordinatorConfig* config, const std::string& key,
                    const std::string& value) {
  const std::string where = "setting " + key + "=" + value;
  YAML::Node node;
  try {
    node = YAML::Load(value);
    for (size_t end = key.size(); end != std::string::npos && end > 0;) {
      const size_t dot = key.rfind('.', end - 1);
      const size_t begin = dot == std::string::npos ? 0 : dot + 1;
      YAML::Node map(YAML::NodeType::Map);
      map[key.substr(begin, end - begin)] = node;
      node = map;
      end = dot;
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(where + ": " + e.what());
  }
  YamlReader r(node, "");
  return ReadCoordinatorConfig(r, config).WithContext(where);
}

Result<ClientConfig> LoadClientConfig(const std::string& path) {
  ASSIGN_OR_RETURN(YAML::Node root, LoadYamlFile(path));
  ClientConfig c;
  YamlReader r(root, "");
  Status st = settings::ReadSettings(r, &c);
  if (st.ok()) st = r.Finish();
  if (st.ok() && !c.policy_file.empty()) {
    std::filesystem::path pf(c.policy_file);
    if (pf.is_relative()) pf = std::filesystem::path(path).parent_path() / pf;
    Result<YAML::Node> policy = LoadYamlFile(pf.string());
    st = policy.ok() ? ReadSection(YamlReader(*policy, ""), &c.policy).WithContext(pf.string())
                     : policy.status();
    if (!st.ok()) return st;
  }
  if (st.ok() && c.data.root.empty() && c.data.manifest.empty()) {
    st = InvalidArgument("data.root or data.manifest is required");
  }
  if (!c.approved_plans.empty() && std::filesystem::path(c.approved_plans).is_relative()) {
    c.approved_plans = (std::filesystem::path(path).parent_path() / c.approved_plans).string();
  }
  RETURN_IF_ERROR(st.WithContext(path));
  return c;
}

}  // namespace fedsmear
