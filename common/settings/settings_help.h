// Reference text for described structs (common/settings/setting.h): one line per setting with
// its dotted key, type, default, range, plan rule and whether it travels to sites, then its
// help. `fedsmear-coordinator --help-config` and `fedsmear-client --help-config` print it.
//
// Thread-safety: pure templates.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/settings/enum_names.h"
#include "common/settings/setting.h"

namespace fedsmear::settings {

class HelpOut {
 public:
  HelpOut(std::ostringstream* out, std::string prefix) : out_(out), prefix_(std::move(prefix)) {}

  template <class F>
  void operator()(const F& value, const Spec& spec) {
    const std::string key = prefix_ + spec.name();
    if constexpr (IsDescribed<F>::value) {
      *out_ << key << ":  " << spec.help() << "\n";
      HelpOut inner(out_, key + ".");
      Describe(value, inner);
    } else {
      Leaf(value, spec, key);
    }
  }

 private:
  template <class F>
  void Leaf(const F& value, const Spec& spec, const std::string& key) {
    *out_ << "  " << key << " (" << TypeAndDefault(value);
    if (spec.has_range()) {
      if (spec.positive()) {
        *out_ << ", > 0";
        if (spec.hi() < kNoLimit) *out_ << " and <= " << Number(spec.hi());
      } else {
        *out_ << ", " << Number(spec.lo()) << ".." << Number(spec.hi());
      }
    }
    switch (spec.declared_plan()) {
      case PlanRule::kNone: break;
      case PlanRule::kEqual: *out_ << "; plan: exact"; break;
      case PlanRule::kAtMost: *out_ << "; plan: at most"; break;
      case PlanRule::kCap: *out_ << "; plan: at most, 0 = no cap"; break;
      case PlanRule::kDerived: *out_ << "; plan: derived"; break;
    }
    if (spec.plan_group() != nullptr) *out_ << " (" << spec.plan_group() << ")";
    if (spec.wire()) *out_ << "; sent to sites";
    *out_ << "): " << spec.help() << "\n";
  }

  static std::string Number(double v) {
    if (v == kNoLimit) return "inf";
    if (v == -kNoLimit) return "-inf";
    if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
    return nlohmann::json(v).dump();
  }

  template <class F>
  static std::string TypeAndDefault(const F& value) {
    if constexpr (IsNamedEnum<F>::value) {
      return std::string("one of ") + EnumList<F>(" | ") + ", default " + NameOf(value);
    } else if constexpr (std::is_same_v<F, bool>) {
      return std::string("bool, default ") + (value ? "true" : "false");
    } else if constexpr (std::is_integral_v<F>) {
      return "integer, default " + std::to_string(value);
    } else if constexpr (std::is_floating_point_v<F>) {
      return "number, default " + nlohmann::json(value).dump();
    } else if constexpr (std::is_same_v<F, std::string>) {
      return "text, default '" + value + "'";
    } else if constexpr (std::is_same_v<F, std::map<std::string, double>>) {
      return "mapping of names to numbers";
    } else {
      return "list, default " + nlohmann::json(value).dump();
    }
  }

  std::ostringstream* out_;
  std::string prefix_;
};

// Every setting of a default-constructed T (the defaults it shows), one per line.
template <class T>
std::string SettingsHelp(const T& defaults) {
  std::ostringstream out;
  HelpOut help(&out, "");
  Describe(defaults, help);
  return out.str();
}

// Every leaf setting of a described struct as ("dotted.key", "value text"), in description
// order; only those that travel to sites when `wire_only`.
class Flatten {
 public:
  Flatten(std::vector<std::pair<std::string, std::string>>* out, std::string prefix,
          bool wire_only)
      : out_(out), prefix_(std::move(prefix)), wire_only_(wire_only) {}

  template <class F>
  void operator()(const F& value, const Spec& spec) {
    if (wire_only_ && !spec.wire()) return;
    const std::string key = prefix_ + spec.name();
    if constexpr (IsDescribed<F>::value) {
      Flatten inner(out_, key + ".", wire_only_);
      Describe(value, inner);
    } else if constexpr (IsNamedEnum<F>::value) {
      out_->emplace_back(key, NameOf(value));
    } else if constexpr (std::is_same_v<F, std::string>) {
      out_->emplace_back(key, value);
    } else {
      out_->emplace_back(key, nlohmann::json(value).dump());
    }
  }

 private:
  std::vector<std::pair<std::string, std::string>>* out_;
  std::string prefix_;
  bool wire_only_;
};

template <class T>
std::vector<std::pair<std::string, std::string>> FlattenSettings(const T& value,
                                                                 bool wire_only = false) {
  std::vector<std::pair<std::string, std::string>> out;
  Flatten flatten(&out, "", wire_only);
  Describe(value, flatten);
  return out;
}

// "key=value key=value" for the settings of `value` that differ from `base` (for logs and
// audit lines); "" when none do.
template <class T>
std::string SettingsThatDiffer(const T& value, const T& base, bool wire_only = false) {
  const auto a = FlattenSettings(value, wire_only), b = FlattenSettings(base, wire_only);
  std::string out;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i].second != b[i].second) {
      out += (out.empty() ? "" : " ") + a[i].first + "=" + a[i].second;
    }
  }
  return out;
}

}  // namespace fedsmear::settings
