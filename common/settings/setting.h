// One description per setting. A config struct describes each of its fields once, in a
// function template `Describe(self, visitor)` beside the struct: the field, its name, help text,
// allowed range, how it enters the training plan, and whether it travels to sites in the wire
// struct of the same name. Every generic reader and writer is a visitor over that description:
// YAML loading with line numbers (settings_yaml.h), YAML writing, `--help` text
// (settings_help.h), the plan's canonical JSON and the site's check of a task against the plan
// (settings_plan.h), and the wire encoding (common/wire/wire_settings.h). Adding a setting is one
// line in its struct's Describe, plus its user; the defaults are the struct's initialisers.
//
//   template <class Self, class V>
//   IfDescribes<Self, Foo> Describe(Self& f, V& v) {
//     v(f.steps, Spec("steps", "optimizer steps per round").Range(0, 1e7).Plan(PlanRule::kAtMost));
//     v(f.inner, Spec("inner", "a nested mapping"));      // a described struct: a section
//   }
//
// A visitor is any type with `operator()(Field& value, const Spec&)` for the field types used
// (bool, int, int64_t, double, std::string, string/double lists, described enums, described
// structs). Thread-safety: value types and pure templates.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

namespace fedsmear::settings {

// How a setting enters the training plan (common/governance/plan.h) and how a site holds a task
// to it (client/site_plan_check.cc).
enum class PlanRule : uint8_t {
  kNone,    // not in the plan: how this process runs (paths, ports, logging, deadlines)
  kEqual,   // the plan names the value; a task must carry exactly it
  kAtMost,  // the plan names the largest value a task may ask for
  kCap,     // kAtMost where 0 means "no cap": a plan's 0 allows any value, a plan's cap refuses 0
  kDerived, // in the plan under entries its owner derives (e.g. learning_rate: lr_max, lr_min)
};

inline constexpr double kNoLimit = std::numeric_limits<double>::infinity();

// The description of one setting. Built where it is visited:
//   Spec("steps", "help").Range(0, 1e7).Plan(PlanRule::kCap).Absent("0").Wire()
class Spec {
 public:
  constexpr Spec(const char* name, const char* help) : name_(name), help_(help) {}

  // Inclusive bounds for numbers (and list lengths are not checked here).
  constexpr Spec& Range(double lo, double hi) { lo_ = lo; hi_ = hi; return *this; }
  // > 0 (exclusive lower bound), with an optional inclusive upper bound.
  constexpr Spec& Positive(double hi = kNoLimit) { positive_ = true; hi_ = hi; return *this; }
  // Its plan entry, under `key` ("" = the setting's own name; "a.b" = inside object a).
  constexpr Spec& Plan(PlanRule rule, const char* key = "") {
    plan_ = rule; plan_key_ = key; return *this;
  }
  // In the plan only when `applies` (e.g. SecAgg+ settings only when secure aggregation is on).
  constexpr Spec& PlanWhen(bool applies) { plan_applies_ = applies; return *this; }
  // In the plan only when the plan's maker enables `group` (a fact about a registered choice
  // that this layer does not know, e.g. whether the downlink codec sends signs).
  constexpr Spec& PlanGroup(const char* group) { plan_group_ = group; return *this; }
  // The value an absent plan entry or an empty/zero wire field of an older peer means, as its
  // YAML text. The plan omits the setting at this value, so that plans made before the setting
  // existed keep their hashes.
  constexpr Spec& Absent(const char* text) { absent_ = text; return *this; }
  // Travels to sites: a field of the same name (in camelCase) in the wire struct.
  constexpr Spec& Wire() { wire_ = true; return *this; }

  constexpr const char* name() const { return name_; }
  constexpr const char* help() const { return help_; }
  constexpr double lo() const { return lo_; }
  constexpr double hi() const { return hi_; }
  constexpr bool positive() const { return positive_; }
  constexpr bool has_range() const { return positive_ || lo_ > -kNoLimit || hi_ < kNoLimit; }
  constexpr PlanRule plan() const { return plan_applies_ ? plan_ : PlanRule::kNone; }
  constexpr PlanRule declared_plan() const { return plan_; }
  constexpr const char* plan_key() const { return *plan_key_ ? plan_key_ : name_; }
  constexpr const char* absent() const { return absent_; }
  constexpr bool wire() const { return wire_; }
  constexpr const char* plan_group() const { return plan_group_; }

  // Whether `v` is inside the range ("" when it is, else "must be ..." for a message).
  std::string RangeError(double v) const;

 private:
  const char* name_;
  const char* help_;
  double lo_ = -kNoLimit, hi_ = kNoLimit;
  bool positive_ = false;
  PlanRule plan_ = PlanRule::kNone;
  const char* plan_key_ = "";
  bool plan_applies_ = true;
  const char* plan_group_ = nullptr;
  const char* absent_ = nullptr;
  bool wire_ = false;
};

// Enables a Describe overload for one struct, for both const and mutable access.
template <class Self, class T>
using IfDescribes = std::enable_if_t<std::is_same_v<std::remove_const_t<Self>, T>>;

// Whether a struct has a Describe (a section rather than a leaf value).
template <class T, class = void>
struct IsDescribed : std::false_type {};
struct NullVisitor {
  template <class F>
  void operator()(F&, const Spec&) {}
};
template <class T>
struct IsDescribed<T, std::void_t<decltype(Describe(std::declval<T&>(),
                                                    std::declval<NullVisitor&>()))>>
    : std::true_type {};

}  // namespace fedsmear::settings
