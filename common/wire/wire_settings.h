// The wire side of described structs (common/settings/setting.h): every setting marked Wire()
// is the field of the same name, in camelCase, of the Cap'n Proto struct that carries it,
// written and read through capnp's reflection, so encode.cc and decode.cc name no setting.
// An enum travels as its name (Text); an empty Text or an absent field of an older peer reads
// as the setting's Absent() value. Ranges are checked by CheckWireRanges after decoding.
// tests/common/wire/wire_settings_test.cc holds the schema and the descriptions to each other.
//
// Private to fedsmear_wire (includes capnp). Thread-safety: pure templates.
#pragma once

#include <capnp/dynamic.h>

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "common/settings/enum_names.h"
#include "common/settings/setting.h"
#include "common/status.h"

namespace fedsmear::wire {

// "rotate_deg" -> "rotateDeg"
inline std::string CamelCase(const char* snake) {
  std::string out;
  bool upper = false;
  for (const char* c = snake; *c; ++c) {
    if (*c == '_') {
      upper = true;
    } else {
      out += upper ? static_cast<char>(*c - 'a' + 'A') : *c;
      upper = false;
    }
  }
  return out;
}

class WireOut {
 public:
  explicit WireOut(capnp::DynamicStruct::Builder out) : out_(out) {}

  template <class F>
  void operator()(const F& value, const settings::Spec& spec) {
    if (!spec.wire()) return;
    const std::string field = CamelCase(spec.name());
    if constexpr (settings::IsDescribed<F>::value) {
      WireOut inner(out_.init(field).template as<capnp::DynamicStruct>());
      Describe(value, inner);
    } else if constexpr (settings::IsNamedEnum<F>::value) {
      out_.set(field, capnp::Text::Reader(settings::NameOf(value)));
    } else if constexpr (std::is_same_v<F, std::string>) {
      out_.set(field, capnp::Text::Reader(value.data(), value.size()));
    } else if constexpr (std::is_same_v<F, bool> || std::is_floating_point_v<F>) {
      out_.set(field, value);
    } else if constexpr (std::is_integral_v<F>) {
      // Unsigned wire fields carry non-negative settings (their ranges say so).
      out_.set(field, static_cast<uint64_t>(value < 0 ? 0 : value));
    }
  }

 private:
  capnp::DynamicStruct::Builder out_;
};

class WireIn {
 public:
  WireIn(capnp::DynamicStruct::Reader in, std::string prefix, size_t max_text)
      : in_(in), prefix_(std::move(prefix)), max_text_(max_text) {}

  template <class F>
  void operator()(F& value, const settings::Spec& spec) {
    if (!spec.wire() || !status_.ok()) return;
    const std::string field = CamelCase(spec.name());
    const std::string path = prefix_ + spec.name();
    const capnp::DynamicValue::Reader v = in_.get(field);
    if constexpr (settings::IsDescribed<F>::value) {
      WireIn inner(v.as<capnp::DynamicStruct>(), path + ".", max_text_);
      Describe(value, inner);
      status_ = inner.status();
    } else if constexpr (settings::IsNamedEnum<F>::value || std::is_same_v<F, std::string>) {
      const capnp::Text::Reader text = v.as<capnp::Text>();
      if (text.size() > max_text_) {
        status_ = Corrupt(path + " is " + std::to_string(text.size()) + " bytes");
        return;
      }
      std::string s(text.cStr(), text.size());
      if (s.empty() && spec.absent() != nullptr) s = spec.absent();  // an older peer
      if constexpr (settings::IsNamedEnum<F>::value) {
        auto parsed = settings::ParseEnum<F>(s);
        if (!parsed) {
          status_ = Corrupt(path + " '" + s + "' is not one of " +
                                    settings::EnumList<F>());
          return;
        }
        value = *parsed;
      } else {
        value = std::move(s);
      }
    } else if constexpr (std::is_same_v<F, bool> || std::is_floating_point_v<F>) {
      value = v.as<F>();
    } else if constexpr (std::is_integral_v<F>) {
      const uint64_t n = v.as<uint64_t>();
      if (n > static_cast<uint64_t>(std::numeric_limits<F>::max())) {
        status_ = Corrupt(path + " = " + std::to_string(n) + " is absurdly large");
        return;
      }
      value = static_cast<F>(n);
    }
  }

  Status status() const { return status_; }

 private:
  capnp::DynamicStruct::Reader in_;
  std::string prefix_;
  size_t max_text_;
  Status status_;
};

// After decoding: every wire setting inside its described range (InvalidArgument naming it).
class WireRanges {
 public:
  explicit WireRanges(std::string prefix) : prefix_(std::move(prefix)) {}

  template <class F>
  void operator()(const F& value, const settings::Spec& spec) {
    if (!spec.wire() || !status_.ok()) return;
    if constexpr (settings::IsDescribed<F>::value) {
      WireRanges inner(prefix_ + spec.name() + ".");
      Describe(value, inner);
      status_ = inner.status();
    } else if constexpr (std::is_arithmetic_v<F> && !std::is_same_v<F, bool>) {
      const double v = static_cast<double>(value);
      if (!std::isfinite(v) || !spec.RangeError(v).empty()) {
        status_ = InvalidArgument(prefix_ + spec.name() + " = " + std::to_string(v) + " " +
                                  (std::isfinite(v) ? spec.RangeError(v) : "is not finite"));
      }
    }
  }

  Status status() const { return status_; }

 private:
  std::string prefix_;
  Status status_;
};

}  // namespace fedsmear::wire
