#include "common/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/yaml_reader.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = tmp_.Sub(name);
    std::ofstream(path) << text;
    return path;
  }
  testing::TempDir tmp_{"fedsmear-config"};
  const std::filesystem::path& dir_ = tmp_.path();
};

TEST_F(ConfigTest, ShippedExamplesLoad) {
  auto coord = LoadCoordinatorConfig(FEDSMEAR_SOURCE_DIR "/configs/coordinator.yaml");
  ASSERT_TRUE(coord.ok()) << coord.status();
  EXPECT_EQ(coord->model.arch, "bdn28");
  auto client = LoadClientConfig(FEDSMEAR_SOURCE_DIR "/configs/client.yaml");
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_FALSE(client->site_id.empty());
}

TEST_F(ConfigTest, ValidFileOverridesDefaultsAndKeepsTheRest) {
  auto c = LoadCoordinatorConfig(Write("c.yaml", R"(
insecure: true
rounds: 7
model:
  arch: bdn-tiny
  classes: 3
  class_names: [a, b, c]
train:
  learning_rate: 0.01
  augment:
    rot90: true
holdout:
  - name: lab1
    path: /data/lab1
)"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rounds, 7);
  EXPECT_EQ(c->model.arch, "bdn-tiny");
  EXPECT_EQ(c->model.class_names.size(), 3u);
  EXPECT_DOUBLE_EQ(c->train.learning_rate, 0.01);
  EXPECT_TRUE(c->train.augment.rot90);
  EXPECT_TRUE(c->train.augment.hflip);  // default kept
  EXPECT_EQ(c->train.batch_size, 32);   // default kept
  ASSERT_EQ(c->holdout.size(), 1u);
  EXPECT_EQ(c->holdout[0].name, "lab1");
}

TEST_F(ConfigTest, UnknownKeyIsAnErrorWithPathAndLine) {
  auto c = LoadCoordinatorConfig(Write("c.yaml", "insecure: true\ntrain:\n  epochz: 3\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("train.epochz"), std::string::npos) << c.status();
  EXPECT_NE(c.status().message().find("line 3"), std::string::npos) << c.status();
}

TEST_F(ConfigTest, WrongTypeIsAnError) {
  auto c = LoadCoordinatorConfig(Write("c.yaml", "insecure: true\nrounds: three\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("rounds"), std::string::npos);
  EXPECT_NE(c.status().message().find("integer"), std::string::npos) << c.status();
  auto d = LoadClientConfig(Write("d.yaml", "site_id: a\ninsecure: true\ndata: {root: x}\n"
                                            "policy:\n  share_class_counts: maybe\n"));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("policy.share_class_counts"), std::string::npos)
      << d.status();
}

TEST_F(ConfigTest, OutOfRangeAndBadEnum) {
  auto c = LoadCoordinatorConfig(Write("c.yaml", "insecure: true\ntrain: {batch_size: 0}\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("train.batch_size"), std::string::npos) << c.status();
  auto e = LoadCoordinatorConfig(Write("e.yaml", "insecure: true\nlog_level: loud\n"));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("debug"), std::string::npos) << e.status();
  // Strategy names and parameters are the strategy registry's to check
  // (tests/coordinator/strategies_test.cc); the loader keeps them typed.
  auto p = LoadCoordinatorConfig(
      Write("p.yaml", "strategy: fedavgm\nstrategy_params: {momentum: 0.5, server_lr: 1}\n"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->strategy_params, (std::map<std::string, double>{{"momentum", 0.5},
                                                              {"server_lr", 1.0}}));
  auto back = LoadCoordinatorConfig(Write("p2.yaml", ToYaml(*p)));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->strategy_params, p->strategy_params);
  auto word = LoadCoordinatorConfig(Write("w.yaml", "strategy_params: {momentum: high}\n"));
  ASSERT_FALSE(word.ok());
  EXPECT_NE(word.status().message().find("strategy_params.momentum"), std::string::npos)
      << word.status();
  EXPECT_FALSE(LoadCoordinatorConfig(Write("l.yaml", "strategy_params: [1, 2]\n")).ok());
  auto bn = LoadCoordinatorConfig(Write("bn.yaml", "bn_recalibration_images: -1\n"));
  ASSERT_FALSE(bn.ok());
  EXPECT_NE(bn.status().message().find("bn_recalibration_images"), std::string::npos)
      << bn.status();
  auto bn_ok = LoadCoordinatorConfig(Write("bn2.yaml", "bn_recalibration_images: 256\n"));
  ASSERT_TRUE(bn_ok.ok()) << bn_ok.status();
  EXPECT_EQ(bn_ok->bn_recalibration_images, 256);
  auto kept = LoadCoordinatorConfig(Write("o.yaml", "train: {optimizer_state: momentum}\n"));
  ASSERT_FALSE(kept.ok());
  EXPECT_NE(kept.status().message().find("optimizer_state"), std::string::npos) << kept.status();
  auto flip = LoadCoordinatorConfig(Write("f.yaml", "latent_flip: mirror\n"));
  ASSERT_FALSE(flip.ok());
  EXPECT_NE(flip.status().message().find("latent_flip"), std::string::npos) << flip.status();
  auto steps = LoadCoordinatorConfig(Write("s.yaml", "train: {local_steps: -3}\n"));
  ASSERT_FALSE(steps.ok());
  EXPECT_NE(steps.status().message().find("train.local_steps"), std::string::npos)
      << steps.status();
}

TEST_F(ConfigTest, MissingFileAndSyntaxError) {
  auto c = LoadClientConfig((dir_ / "nope.yaml").string());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  auto s = LoadClientConfig(Write("s.yaml", "site_id: [unclosed\n"));
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("syntax"), std::string::npos) << s.status();
}

TEST_F(ConfigTest, PolicyFileOverridesThePolicySection) {
  Write("policy.yaml", "min_samples_per_class: 25\nmax_local_epochs: 3\n");
  auto c = LoadClientConfig(Write("c.yaml", "site_id: a\ndata: {root: /x}\n"
                                            "policy: {min_samples_per_class: 5}\n"
                                            "policy_file: policy.yaml\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->policy.min_samples_per_class, 25);
  EXPECT_EQ(c->policy.max_local_epochs, 3);
  Write("bad.yaml", "max_local_epochs: 3\nshare_everything: true\n");
  auto bad = LoadClientConfig(Write("d.yaml", "site_id: a\ndata: {root: /x}\npolicy_file: bad.yaml\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("share_everything"), std::string::npos) << bad.status();
}

// Issue 16: the site's own secure aggregation policy.
TEST_F(ConfigTest, SecureAggregationPolicyKeys) {
  auto c = LoadClientConfig(Write("p.yaml", "site_id: a\ndata: {root: /x}\n"
                                            "policy:\n  require_secure_aggregation: true\n"
                                            "  secagg_roster_file: roster\n"
                                            "  min_secagg_threshold: 5\n"
                                            "  min_secagg_neighbours: 8\n"
                                            "  max_secagg_sites: 50\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->policy.require_secure_aggregation);
  EXPECT_EQ(c->policy.secagg_roster_file, "roster");
  EXPECT_EQ(c->policy.min_secagg_threshold, 5);
  EXPECT_EQ(c->policy.min_secagg_neighbours, 8);
  EXPECT_EQ(c->policy.max_secagg_sites, 50);
  EXPECT_EQ(c->policy.max_input_size, 1024);  // default
  // Secure by default: a site requires SecAgg+ rounds, a roster and three sites per round. The
  // config loads without a roster (tools read it); the site refuses to start (site_policy_test).
  auto defaults = LoadClientConfig(Write("q.yaml", "site_id: a\ndata: {root: /x}\n"));
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_TRUE(defaults->policy.require_secure_aggregation);
  EXPECT_TRUE(defaults->policy.require_secagg_roster);
  EXPECT_EQ(defaults->policy.min_secagg_sites, 3);
  EXPECT_FALSE(LoadClientConfig(Write("t.yaml", "site_id: a\ndata: {root: /x}\n"
                                                "policy: {min_secagg_sites: 2}\n"))
                   .ok());
  EXPECT_FALSE(LoadClientConfig(Write("r.yaml", "site_id: a\ndata: {root: /x}\n"
                                                "policy: {max_secagg_sites: 1}\n"))
                   .ok());
  auto coord = LoadCoordinatorConfig(Write("s.yaml", "max_site_samples: 5000\n"));
  ASSERT_TRUE(coord.ok()) << coord.status();
  EXPECT_EQ(coord->max_site_samples, 5000);
  EXPECT_FALSE(LoadCoordinatorConfig(Write("t.yaml", "max_site_samples: 0\n")).ok());
}

TEST_F(ConfigTest, ToYamlRoundTrips) {
  auto c = LoadCoordinatorConfig(FEDSMEAR_SOURCE_DIR "/configs/coordinator.yaml");
  ASSERT_TRUE(c.ok());
  c->train.learning_rate = 0.0123456789;
  c->train.augment.hue = 0.05;
  c->train.local_steps = 35;
  c->train.optimizer_state = OptimizerStateMode::kKeep;
  c->latent_flip = FreshLatent::kGlorot;
  c->holdout.push_back({"lab 2", "/data/with space"});
  c->secure_aggregation = SecureAggregation::kSecAggPlus;
  c->secagg_threshold = 3;
  c->secagg_clip = 2.5;
  auto back = LoadCoordinatorConfig(Write("c2.yaml", ToYaml(*c)));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(ToYaml(*back), ToYaml(*c));
  EXPECT_DOUBLE_EQ(back->train.learning_rate, 0.0123456789);
  EXPECT_EQ(back->train.local_steps, 35);
  EXPECT_EQ(back->train.optimizer_state, OptimizerStateMode::kKeep);
  EXPECT_EQ(back->latent_flip, FreshLatent::kGlorot);
  EXPECT_EQ(back->holdout.back().path, "/data/with space");
  EXPECT_EQ(back->secure_aggregation, SecureAggregation::kSecAggPlus);
  EXPECT_EQ(back->secagg_threshold, 3);
  auto s = LoadClientConfig(FEDSMEAR_SOURCE_DIR "/configs/client.yaml");
  ASSERT_TRUE(s.ok());
  s->policy.min_samples_per_class = 7;
  s->signing_key_file = "keys/x.sign.key";
  auto sback = LoadClientConfig(Write("s2.yaml", ToYaml(*s)));
  ASSERT_TRUE(sback.ok()) << sback.status();
  EXPECT_EQ(ToYaml(*sback), ToYaml(*s));
}

// SecAgg+ computes the sum every strategy finishes from: no strategy or uplink is refused.
TEST_F(ConfigTest, SecureAggregationRunsUnderEveryStrategyAndUplink) {
  for (const char* strategy : {"fedavg", "fedprox", "fedadam", "fedvote"}) {
    for (const char* codec : {"f32", "sign1+f16", "q8_delta+q8"}) {
      auto c = LoadCoordinatorConfig(Write("a.yaml", std::string("secure_aggregation: secagg+\n"
                                                                 "strategy: ") +
                                                         strategy + "\ncodec_up: " + codec + "\n"));
      ASSERT_TRUE(c.ok()) << strategy << " " << codec << ": " << c.status();
      EXPECT_EQ(c->secure_aggregation, SecureAggregation::kSecAggPlus);
      EXPECT_EQ(c->strategy, strategy);
    }
  }
  EXPECT_EQ(LoadCoordinatorConfig(Write("o.yaml", "secure_aggregation: off\n"))->secure_aggregation,
            SecureAggregation::kOff);
  EXPECT_FALSE(LoadCoordinatorConfig(Write("d.yaml", "secure_aggregation: yes-please\n")).ok());
  EXPECT_FALSE(LoadCoordinatorConfig(Write("e.yaml", "secagg_clip: 0\n")).ok());
}

TEST(YamlReaderTest, NestedMappingMustBeAMapping) {
  YAML::Node root = YAML::Load("train: 5\n");
  YamlReader r(root, "");
  TrainConfig t;
  Status st = ReadTrainConfig(r.Child("train"), &t);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("mapping"), std::string::npos) << st;
}

}  // namespace
}  // namespace fedsmear
