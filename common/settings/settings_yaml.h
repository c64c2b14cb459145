// YAML for described structs (common/settings/setting.h): strict reading with ranges and line
// numbers through YamlReader, and writing that reads back to an equal struct.
//
//   YamlReader r(node, "");
//   RETURN_IF_ERROR(ReadSettings(r, &config));   // fields, ranges, nested sections
//   ... cross-field checks with r.Fail(...) ...
//   RETURN_IF_ERROR(r.Finish());                 // unknown keys, first error
//
// Thread-safety: pure templates; one reader per mapping.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "common/settings/enum_names.h"
#include "common/settings/setting.h"
#include "common/status.h"
#include "common/yaml_reader.h"

namespace fedsmear::settings {

// Checks across the fields of one struct after it is read, reported with r.Fail(key, why). A
// struct that has some declares `void CheckSettings(YamlReader&, const T&)` in its namespace;
// this fallback is for the others.
template <class T>
void CheckSettings(YamlReader&, const T&) {}

class YamlIn {
 public:
  explicit YamlIn(YamlReader* reader) : r_(reader) {}

  template <class F>
  void operator()(F& value, const Spec& spec) {
    if constexpr (IsDescribed<F>::value) {
      YamlReader child = r_->Child(spec.name());
      YamlIn in(&child);
      Describe(value, in);
      CheckSettings(child, static_cast<const F&>(value));
      Status st = in.status();
      if (st.ok()) st = child.Finish();
      if (status_.ok()) status_ = st;
    } else if constexpr (IsNamedEnum<F>::value) {
      if (!r_->Has(spec.name())) {
        std::string ignored;
        r_->Read(spec.name(), &ignored);  // marks the key as known
        return;
      }
      std::string text = NameOf(value);
      r_->Read(spec.name(), &text);
      if (auto parsed = ParseEnum<F>(text)) {
        value = *parsed;
      } else {
        r_->Fail(spec.name(), "'" + text + "' is not one of: " + EnumList<F>());
      }
    } else if constexpr (std::is_same_v<F, std::map<std::string, double>>) {
      if (!r_->Has(spec.name())) {
        r_->Child(spec.name());  // marks the key as known
        return;
      }
      YamlReader child = r_->Child(spec.name());
      for (const std::string& key : child.Keys()) {
        double number = 0;
        child.Read(key, &number);
        value[key] = number;
      }
      if (status_.ok()) status_ = child.Finish();
    } else {
      const bool given = r_->Has(spec.name());
      r_->Read(spec.name(), &value);
      if constexpr (std::is_arithmetic_v<F> && !std::is_same_v<F, bool>) {
        // Defaults are checked too: a struct default outside its own range is a bug a test finds.
        const std::string why = spec.RangeError(static_cast<double>(value));
        if (given && !why.empty()) r_->Fail(spec.name(), why);
      }
    }
  }

  // The first error of a nested section (the caller's reader holds this level's).
  Status status() const { return status_; }

 private:
  YamlReader* r_;
  Status status_;
};

// Reads every described field of *out from r (absent keys keep their defaults) and runs its
// CheckSettings. Returns the first error of a nested section; this level's errors are in r
// (call r.Finish()).
template <class T>
Status ReadSettings(YamlReader& r, T* out) {
  YamlIn in(&r);
  Describe(*out, in);
  CheckSettings(r, static_cast<const T&>(*out));
  return in.status();
}

class YamlOut {
 public:
  explicit YamlOut(YAML::Emitter* e) : e_(e) {}

  template <class F>
  void operator()(const F& value, const Spec& spec) {
    *e_ << YAML::Key << spec.name() << YAML::Value;
    if constexpr (IsDescribed<F>::value) {
      *e_ << YAML::BeginMap;
      Describe(value, *this);
      *e_ << YAML::EndMap;
    } else if constexpr (IsNamedEnum<F>::value) {
      *e_ << NameOf(value);
    } else if constexpr (std::is_same_v<F, std::map<std::string, double>>) {
      *e_ << YAML::BeginMap;
      for (const auto& [key, number] : value) *e_ << YAML::Key << key << YAML::Value << number;
      *e_ << YAML::EndMap;
    } else if constexpr (std::is_same_v<F, std::vector<std::string>> ||
                         std::is_same_v<F, std::vector<double>> ||
                         std::is_same_v<F, std::vector<int>>) {
      *e_ << YAML::Flow << value;
    } else {
      *e_ << value;
    }
  }

 private:
  YAML::Emitter* e_;
};

// Emits every described field of `in` as key/value pairs into an open mapping.
template <class T>
void WriteSettings(YAML::Emitter& e, const T& in) {
  YamlOut out(&e);
  Describe(in, out);
}

}  // namespace fedsmear::settings
