// Writing typed configs back to YAML from their descriptions; the inverse of the loaders.
#include <yaml-cpp/yaml.h>

#include "common/config.h"
#include "common/settings/settings_yaml.h"

namespace fedsmear {

std::string ToYaml(const CoordinatorConfig& c) {
  YAML::Emitter e;
  e.SetDoublePrecision(17);
  e << YAML::BeginMap;
  settings::WriteSettings(e, c);
  for (const auto& [key, value] : c.legacy_strategy_keys) {
    e << YAML::Key << key << YAML::Value << value;
  }
  e << YAML::Key << "holdout" << YAML::Value << YAML::BeginSeq;
  for (const HoldoutSet& h : c.holdout) {
    e << YAML::BeginMap << YAML::Key << "name" << YAML::Value << h.name << YAML::Key << "path"
      << YAML::Value << h.path << YAML::EndMap;
  }
  e << YAML::EndSeq << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

std::string ToYaml(const ClientConfig& c) {
  YAML::Emitter e;
  e.SetDoublePrecision(17);
  e << YAML::BeginMap;
  settings::WriteSettings(e, c);
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace fedsmear
