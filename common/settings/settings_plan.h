// The training plan's view of described structs (common/settings/setting.h): the canonical JSON
// entries of every setting with a plan rule, and a site's check that a task's values stay
// inside them. A plan carries exactly what the descriptions mark, so a setting that reaches
// sites is in the plan by construction (tests/common/settings/plan_membership_test.cc).
//
// Thread-safety: pure templates.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/settings/enum_names.h"
#include "common/settings/setting.h"

namespace fedsmear::settings {

namespace plan_detail {

using nlohmann::json;

// "secure_aggregation.threshold" -> /secure_aggregation/threshold
inline json::json_pointer Pointer(const std::string& key) {
  std::string p = "/" + key;
  for (char& c : p) {
    if (c == '.') c = '/';
  }
  return json::json_pointer(p);
}

template <class F>
json ToJson(const F& value) {
  if constexpr (IsNamedEnum<F>::value) {
    return NameOf(value);
  } else if constexpr (std::is_integral_v<F> && !std::is_same_v<F, bool>) {
    if (value >= 0) return static_cast<uint64_t>(value);
    return static_cast<int64_t>(value);
  } else {
    return value;
  }
}

// Whether `value` is what an absent entry means (Spec::Absent).
template <class F>
bool IsAbsentValue(const F& value, const char* absent) {
  if (absent == nullptr) return false;
  if constexpr (IsNamedEnum<F>::value) {
    return std::string(NameOf(value)) == absent;
  } else if constexpr (std::is_same_v<F, bool>) {
    return std::string(value ? "true" : "false") == absent;
  } else if constexpr (std::is_arithmetic_v<F>) {
    return static_cast<double>(value) == std::strtod(absent, nullptr);
  } else if constexpr (std::is_same_v<F, std::string>) {
    return value == absent;
  } else {
    return value.empty() && (std::string(absent) == "{}" || std::string(absent) == "[]");
  }
}

// The JSON an absent entry stands for, typed like `F`'s entries.
template <class F>
json AbsentJson(const char* absent) {
  if constexpr (std::is_same_v<F, bool>) {
    return std::string(absent) == "true";
  } else if constexpr (std::is_integral_v<F>) {
    return static_cast<uint64_t>(std::strtoull(absent, nullptr, 10));
  } else if constexpr (std::is_floating_point_v<F>) {
    return std::strtod(absent, nullptr);
  } else {
    return std::string(absent);
  }
}

inline bool Same(double a, double b) {
  return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
}

inline std::string Words(const char* name) {
  std::string w = name;
  for (char& c : w) {
    if (c == '_') c = ' ';
  }
  return w;
}

}  // namespace plan_detail

// Writes the plan entries of a described struct into `doc` (an object). Settings of a plan
// group (Spec::PlanGroup) enter only when `groups` names it.
class PlanOut {
 public:
  explicit PlanOut(nlohmann::json* doc, std::vector<std::string> groups = {})
      : doc_(doc), groups_(std::move(groups)) {}

  template <class F>
  void operator()(const F& value, const Spec& spec) {
    using namespace plan_detail;
    if constexpr (IsDescribed<F>::value) {
      if (spec.plan() == PlanRule::kNone) return;
      json section = json::object();
      PlanOut inner(&section, groups_);
      Describe(value, inner);
      if (!section.empty()) (*doc_)[Pointer(spec.plan_key())] = section;
    } else {
      const PlanRule rule = spec.plan();
      if (rule == PlanRule::kNone || rule == PlanRule::kDerived) return;
      if (spec.plan_group() != nullptr &&
          std::find(groups_.begin(), groups_.end(), spec.plan_group()) == groups_.end()) {
        return;
      }
      if (IsAbsentValue(value, spec.absent())) return;
      (*doc_)[Pointer(spec.plan_key())] = ToJson(value);
    }
  }

 private:
  nlohmann::json* doc_;
  std::vector<std::string> groups_;
};

template <class T>
void WritePlanEntries(const T& in, nlohmann::json* doc, std::vector<std::string> groups = {}) {
  PlanOut out(doc, std::move(groups));
  Describe(in, out);
}

// Checks the wire-carried fields of a task's struct against the plan object that PlanOut made
// for the same struct. The first difference is kept as a reason a site can log and send back.
class PlanCheck {
 public:
  PlanCheck(const nlohmann::json* plan, std::string prefix)
      : plan_(plan), prefix_(std::move(prefix)) {}

  template <class F>
  void operator()(const F& value, const Spec& spec) {
    using namespace plan_detail;
    if (!why_.empty() || !spec.wire()) return;
    const PlanRule rule = spec.plan();
    if (rule == PlanRule::kNone || rule == PlanRule::kDerived) return;
    const json::json_pointer at = Pointer(spec.plan_key());
    const std::string path = prefix_ + spec.plan_key();
    json want;
    if (plan_->contains(at)) {
      want = plan_->at(at);
    } else if (spec.absent() != nullptr) {
      want = AbsentJson<F>(spec.absent());
    } else {
      why_ = "the plan has no " + path;
      return;
    }
    if constexpr (IsDescribed<F>::value) {
      json have = json::object();
      PlanOut out(&have);
      Describe(value, out);
      if (have != want) {
        why_ = "task's " + std::string(spec.help()) + " differs from the plan (" + path + ")";
      }
    } else if constexpr (IsNamedEnum<F>::value) {
      if (!want.is_string() || want.get<std::string>() != NameOf(value)) {
        why_ = "task's " + Words(spec.name()) + " '" + NameOf(value) + "'; the plan says " +
               (want.is_string() ? "'" + want.get<std::string>() + "'" : want.dump());
      }
    } else if constexpr (std::is_same_v<F, bool> || std::is_same_v<F, std::string>) {
      if (want != json(value)) {
        why_ = "task's " + Words(spec.name()) + " differs from the plan (" + path + ")";
      }
    } else if constexpr (std::is_arithmetic_v<F>) {
      const double v = static_cast<double>(value);
      if (!want.is_number()) {
        why_ = "the plan's " + path + " is not a number";
      } else if (rule == PlanRule::kEqual) {
        const bool same = std::is_integral_v<F> ? v == want.get<double>()
                                                : Same(v, want.get<double>());
        if (!same) {
          why_ = "task's " + Words(spec.name()) + " " + json(value).dump() +
                 " is not the plan's " + want.dump() + " (" + path + ")";
        }
      } else {  // kAtMost, kCap
        const double cap = want.get<double>();
        const bool uncapped_plan = rule == PlanRule::kCap && cap == 0;
        const bool uncapped_task = rule == PlanRule::kCap && v <= 0;
        if (!uncapped_plan && (uncapped_task || v > cap)) {
          why_ = "task asks for " +
                 (uncapped_task ? std::string("uncapped") : json(value).dump()) + " " +
                 Words(spec.name()) + "; the plan allows " + want.dump();
        }
      }
    } else {
      if (want != json(value)) {
        why_ = "task's " + Words(spec.name()) + " differs from the plan (" + path + ")";
      }
    }
  }

  const std::string& why() const { return why_; }

 private:
  const nlohmann::json* plan_;
  std::string prefix_;
  std::string why_;
};

// "" when `task`'s wire-carried settings stay inside `plan` (the object PlanOut made for T),
// else the first reason. `prefix` names the section in messages ("train.").
template <class T>
std::string CheckAgainstPlan(const T& task, const nlohmann::json& plan, std::string prefix) {
  PlanCheck check(&plan, std::move(prefix));
  Describe(task, check);
  return check.why();
}

}  // namespace fedsmear::settings
