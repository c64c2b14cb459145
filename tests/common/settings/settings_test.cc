// The setting descriptions (common/settings/, common/config.h, common/train_config.h): every
// reader and writer derived from them agrees with them, and the plan holds every setting that
// reaches a site.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "common/config.h"
#include "common/governance/plan.h"
#include "common/settings/settings_help.h"
#include "common/settings/settings_plan.h"
#include "common/yaml_reader.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

using settings::PlanRule;
using settings::Spec;

// Every leaf setting with its Spec's facts, by dotted key.
struct Leaf {
  std::string key;
  bool wire = false;
  PlanRule plan = PlanRule::kNone;
  bool in_group = false;
};

class Collect {
 public:
  Collect(std::vector<Leaf>* out, std::string prefix, bool parent_wire)
      : out_(out), prefix_(std::move(prefix)), parent_wire_(parent_wire) {}
  template <class F>
  void operator()(const F& value, const Spec& spec) {
    const std::string key = prefix_ + spec.name();
    if constexpr (settings::IsDescribed<F>::value) {
      Collect inner(out_, key + ".", spec.wire());
      Describe(value, inner);
    } else {
      // The rule in force for these values (PlanWhen applied); groups are all enabled below.
      out_->push_back({key, spec.wire(), spec.plan(), spec.plan_group() != nullptr});
    }
  }

 private:
  std::vector<Leaf>* out_;
  std::string prefix_;
  bool parent_wire_;
};

template <class T>
std::vector<Leaf> Leaves(const T& value) {
  std::vector<Leaf> out;
  Collect c(&out, "", false);
  Describe(value, c);
  return out;
}

// Changes one setting to another valid value, through its description: the next enumerant,
// the flipped bool, a number moved inside its range, an extra list entry.
class Mutate {
 public:
  explicit Mutate(std::string target, std::string prefix = "")
      : target_(std::move(target)), prefix_(std::move(prefix)) {}
  bool done() const { return done_; }

  template <class F>
  void operator()(F& value, const Spec& spec) {
    const std::string key = prefix_ + spec.name();
    if constexpr (settings::IsDescribed<F>::value) {
      Mutate inner(target_, key + ".");
      Describe(value, inner);
      done_ = done_ || inner.done_;
    } else {
      if (key != target_) return;
      done_ = true;
      Change(value, spec);
    }
  }

 private:
  template <class F>
  static void Change(F& value, const Spec& spec) {
    if constexpr (settings::IsNamedEnum<F>::value) {
      const auto& all = settings::EnumNames<F>::kAll;
      const size_t n = sizeof(all) / sizeof(all[0]);
      for (size_t i = 0; i < n; ++i) {
        if (all[i].first == value) {
          value = all[(i + 1) % n].first;
          return;
        }
      }
    } else if constexpr (std::is_same_v<F, bool>) {
      value = !value;
    } else if constexpr (std::is_arithmetic_v<F>) {
      const double lo = spec.positive() ? 0 : std::max(spec.lo(), -1e9), hi = spec.hi();
      const double v = static_cast<double>(value);
      double next = v + 1;
      if (std::is_floating_point_v<F> && hi - lo <= 2) {
        next = v > (lo + hi) / 2 ? lo + (hi - lo) / 4 : hi - (hi - lo) / 4;
      } else if (!(next <= hi)) {
        next = v - 1;
      }
      value = static_cast<F>(next);
    } else if constexpr (std::is_same_v<F, std::string>) {
      value += "x";
    } else if constexpr (std::is_same_v<F, std::map<std::string, double>>) {
      value["x"] = 1;
    } else {
      value.push_back(value.empty() ? typename F::value_type{} : value.back());
    }
  }

  std::string target_;
  std::string prefix_;
  bool done_ = false;
};

TEST(SettingsTest, EverySettingThatReachesSitesIsInThePlan) {
  for (const Leaf& leaf : Leaves(FederatedTrainDefaults())) {
    if (!leaf.wire) continue;
    EXPECT_NE(leaf.plan, PlanRule::kNone)
        << "train." << leaf.key << " travels to sites but no plan names it";
  }
}

// The plan changes with every setting the descriptions put in it, and with no other: a site
// that approved a plan approved every value a task can carry.
TEST(SettingsTest, EveryPlanSettingChangesThePlanAndNoOtherDoes) {
  CoordinatorConfig base;
  base.secure_aggregation = SecureAggregation::kSecAggPlus;  // its settings in the plan too
  base.bn_recalibration_images = 0;
  const PlanFacts facts{true};
  const std::string hash = MakePlan(base, facts).hash;
  int checked = 0;
  for (const Leaf& leaf : Leaves(base)) {
    CoordinatorConfig changed = base;
    Mutate m(leaf.key);
    Describe(changed, m);
    ASSERT_TRUE(m.done()) << leaf.key;
    const bool differs = MakePlan(changed, facts).hash != hash;
    if (leaf.plan == PlanRule::kNone) {
      EXPECT_FALSE(differs) << leaf.key << " is not part of the plan but changes it";
    } else if (leaf.key != "secure_aggregation") {  // turning it off drops its group
      EXPECT_TRUE(differs) << leaf.key << " is in the plan but does not change it";
      ++checked;
    }
  }
  EXPECT_GT(checked, 30);
}

// YAML written from the descriptions reads back to the same values, for every setting moved
// off its default.
TEST(SettingsTest, EverySettingSurvivesYaml) {
  testing::TempDir dir("settings");
  CoordinatorConfig c;
  for (const Leaf& leaf : Leaves(c)) {
    Mutate m(leaf.key);
    Describe(c, m);
  }
  c.model.class_names.assign(static_cast<size_t>(c.model.classes), "cell");
  c.preprocess.mean.resize(3);
  c.preprocess.std.assign(3, 0.3);
  c.status.bind = "127.0.0.1:9999";
  const std::string path = dir.Sub("c.yaml");
  std::ofstream(path) << ToYaml(c);
  auto back = LoadCoordinatorConfig(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(settings::FlattenSettings(*back), settings::FlattenSettings(c));
}

// Out-of-range values name their key, for every described range.
TEST(SettingsTest, EveryRangeIsEnforcedWithTheKeyNamed) {
  CoordinatorConfig c;
  int checked = 0;
  for (const auto& [key, value] : settings::FlattenSettings(c)) {
    CoordinatorConfig probe;
    const Status ok = ApplySetting(&probe, key, value);
    EXPECT_TRUE(ok.ok()) << key << "=" << value << ": " << ok;
  }
  // A number far outside any range this project uses.
  for (const Leaf& leaf : Leaves(c)) {
    CoordinatorConfig probe;
    const Status st = ApplySetting(&probe, leaf.key, "-1e300");
    if (st.ok()) continue;  // unbounded, or not a number
    EXPECT_NE(st.message().find(leaf.key.substr(leaf.key.rfind('.') + 1)), std::string::npos)
        << st;
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

TEST(SettingsTest, ApplySettingSetsNestedKeysAndRefusesUnknownOnes) {
  CoordinatorConfig c;
  ASSERT_TRUE(ApplySetting(&c, "train.local_steps", "7").ok());
  EXPECT_EQ(c.train.local_steps, 7);
  ASSERT_TRUE(ApplySetting(&c, "train.optimizer_state", "keep_scale").ok());
  EXPECT_EQ(c.train.optimizer_state, OptimizerStateMode::kKeepScale);
  ASSERT_TRUE(ApplySetting(&c, "strategy_params.flip_share", "0.4").ok());
  EXPECT_EQ(c.strategy_params.at("flip_share"), 0.4);
  // The simulation's scenario (common/simulation_config.h), as `fedsmear simulate --set` gives it.
  ASSERT_TRUE(ApplySetting(&c, "simulation.concentrate_class", "monocyte").ok());
  ASSERT_TRUE(ApplySetting(&c, "simulation.holdout_seed", "3").ok());
  EXPECT_EQ(c.simulation.concentrate_class, "monocyte");
  EXPECT_EQ(c.simulation.holdout_seed, 3);
  EXPECT_FALSE(ApplySetting(&c, "simulation.concentrate_share", "1.5").ok());
  EXPECT_FALSE(ApplySetting(&c, "simulation.concentrate_site", "0").ok());
  const Status typo = ApplySetting(&c, "train.local_stepz", "7");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.message().find("local_stepz"), std::string::npos) << typo;
  const Status choice = ApplySetting(&c, "secure_aggregation", "maybe");
  ASSERT_FALSE(choice.ok());
  EXPECT_NE(choice.message().find("secagg+"), std::string::npos) << choice;
}

// The shipped configs show every key a user can set.
TEST(SettingsTest, ShippedConfigsShowEveryKey) {
  auto check = [](const std::string& file, const std::vector<Leaf>& leaves) {
    auto root = LoadYamlFile(std::string(FEDSMEAR_SOURCE_DIR) + "/configs/" + file);
    ASSERT_TRUE(root.ok()) << root.status();
    for (const Leaf& leaf : leaves) {
      YAML::Node node = YAML::Clone(*root);
      std::string rest = leaf.key;
      bool found = true;
      while (found && !rest.empty()) {
        const size_t dot = rest.find('.');
        const std::string part = rest.substr(0, dot);
        found = node.IsMap() && node[part].IsDefined();
        if (found) node = node[part];
        rest = dot == std::string::npos ? "" : rest.substr(dot + 1);
      }
      EXPECT_TRUE(found) << "configs/" << file << " does not show " << leaf.key;
    }
  };
  check("coordinator.yaml", Leaves(CoordinatorConfig{}));
  check("client.yaml", Leaves(ClientConfig{}));
}

TEST(SettingsTest, HelpNamesEveryKeyWithItsDefault) {
  const std::string help = settings::SettingsHelp(CoordinatorConfig{});
  for (const Leaf& leaf : Leaves(CoordinatorConfig{})) {
    EXPECT_NE(help.find(leaf.key + " ("), std::string::npos) << leaf.key;
  }
  EXPECT_NE(help.find("train.local_steps (integer, default 28, 0..10000000; plan: at most, 0 = "
                      "no cap; sent to sites)"),
            std::string::npos)
      << help;
}

}  // namespace
}  // namespace fedsmear
