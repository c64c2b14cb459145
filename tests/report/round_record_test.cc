// RoundRecord: the one type for a metrics.jsonl line. Round trip, the exact keys and order the
// coordinator writes (Python readers depend on them), tolerance of older and newer lines, and
// errors that name the line and the key. Plus the rounds table, which reads through it.
#include "report/round_record.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "report/rounds_table.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

RoundRecord FullRecord() {
  ConfusionMatrix m(2);
  m.Add(0, 0);
  m.Add(0, 1);
  m.Add(1, 1);
  RoundRecord r;
  r.round = 3;
  r.lr = 0.001;
  r.sites_selected = {"site-1", "site-2", "site-3"};
  r.sites_reported = {"site-2", "site-1"};
  r.AddFailure("site-3", "deadline passed");
  r.site_images = {{"site-1", 2675, 300}, {"site-2", 4755, 529}};
  r.accuracy = 2.0 / 3;
  r.macro_f1 = 0.6;
  r.central.emplace();
  r.central->emplace_back("holdout", SetScores::FromConfusion(m, {"normal", "sickle"}, 0.7));
  r.site_val_accuracy = 0.5;
  r.federated = FederatedScores{0.75, 0.4, 120, 2};
  r.bn_recalibration = BnRecalibration{3, 768, 230000};
  r.bytes_eval_down = 1000;
  r.bytes_down = 3 << 20;
  r.bytes_up = 1 << 20;
  r.train_s = 1.5;
  r.round_s = 10.25;
  r.eval_s = 2.5;
  r.sign_flips = 0.0125;
  r.secagg = SecAggCounts{{"site-2", "site-1"}, {"site-3"}, 2, 2, 0, 4096};
  return r;
}

TEST(RoundRecordTest, RoundTripKeepsEveryField) {
  const RoundRecord a = FullRecord();
  const std::string line = ToJsonLine(a);
  Result<RoundRecord> b = ParseRoundRecord(line, 1);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(ToJsonLine(*b), line);
  EXPECT_EQ(b->round, 3);
  EXPECT_EQ(b->sites_failed.size(), 1u);
  EXPECT_EQ(b->sites_failed[0].second, "deadline passed");
  ASSERT_EQ(b->site_images.size(), 2u);
  EXPECT_EQ(b->site_images[1].site, "site-2");
  EXPECT_EQ(b->site_images[1].train, 4755);
  EXPECT_EQ(b->site_images[1].val, 529);
  ASSERT_NE(b->Set("holdout"), nullptr);
  EXPECT_EQ(b->Set("holdout")->samples, 3);
  EXPECT_EQ(b->Set("holdout")->per_class.at(1).name, "sickle");
  EXPECT_EQ(b->Set("holdout")->confusion, (std::vector<std::vector<int64_t>>{{1, 1}, {0, 1}}));
  EXPECT_DOUBLE_EQ(*b->Set("holdout")->loss, 0.7);
  ASSERT_TRUE(b->federated.has_value());
  EXPECT_EQ(b->federated->samples, 120u);
  ASSERT_TRUE(b->bn_recalibration.has_value());
  EXPECT_EQ(b->bn_recalibration->images, 768u);
  EXPECT_EQ(b->bn_recalibration->bytes_up, 230000u);
  ASSERT_TRUE(b->secagg.has_value());
  EXPECT_EQ(b->secagg->dropped, std::vector<std::string>{"site-3"});
  EXPECT_EQ(b->secagg->bytes, 4096u);
  ASSERT_TRUE(b->sign_flips.has_value());
  EXPECT_DOUBLE_EQ(*b->sign_flips, 0.0125);
}

TEST(RoundRecordTest, WritesTheCoordinatorsKeysInOrder) {
  const nlohmann::ordered_json j = ToJson(FullRecord());
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "round", "lr", "sites_selected", "sites_reported", "sites_failed",
                      "accuracy", "macro_f1", "central", "site_images", "site_val_accuracy", "federated",
                      "bn_recalibration", "bytes_eval_down", "bytes_down", "bytes_up", "train_s",
                      "round_s", "eval_s", "sign_flips", "secure_aggregation", "secagg"}));
  // The central set is ConfusionMatrix::ToJson plus the loss, as before.
  ConfusionMatrix m(2);
  m.Add(0, 0);
  m.Add(0, 1);
  m.Add(1, 1);
  nlohmann::ordered_json set = m.ToJson({"normal", "sickle"});
  set["loss"] = 0.7;
  EXPECT_EQ(j["central"]["holdout"], set);
  // Without central evaluation: null headline numbers and no "central"; no federated or secagg.
  RoundRecord bare;
  bare.round = 1;
  const nlohmann::ordered_json b = ToJson(bare);
  EXPECT_TRUE(b["accuracy"].is_null());
  EXPECT_TRUE(b["macro_f1"].is_null());
  EXPECT_FALSE(b.contains("central"));
  EXPECT_FALSE(b.contains("federated"));
  EXPECT_FALSE(b.contains("bn_recalibration"));
  EXPECT_FALSE(b.contains("bytes_eval_down"));
  EXPECT_FALSE(b.contains("secagg"));
  EXPECT_FALSE(b.contains("sign_flips"));  // a float model has no binary signs to count
  EXPECT_FALSE(b.contains("site_images"));
  EXPECT_TRUE(b["sites_failed"].is_object());
}

TEST(RoundRecordTest, OlderAndNewerLinesAreRead) {
  // An old line: only a few keys. A newer one: keys this build does not know.
  Result<RoundRecord> old = ParseRoundRecord(R"({"round": 2, "bytes_up": 10})", 4);
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_EQ(old->round, 2);
  EXPECT_EQ(old->bytes_up, 10u);
  EXPECT_FALSE(old->accuracy.has_value());
  EXPECT_FALSE(old->central.has_value());
  Result<RoundRecord> newer = ParseRoundRecord(
      R"({"round": 5, "accuracy": 0.9, "future_key": {"x": [1, 2]},
          "federated": {"accuracy": 0.8, "sites": 3, "histogram": [1]}})",
      9);
  ASSERT_TRUE(newer.ok()) << newer.status().message();
  EXPECT_DOUBLE_EQ(*newer->accuracy, 0.9);
  EXPECT_EQ(newer->federated->sites, 3);
}

TEST(RoundRecordTest, MalformedLinesNameTheLineAndTheKey) {
  struct Case {
    const char* line;
    const char* says;
  } cases[] = {
      {R"({"round": 1, "accuracy": 0.9)", "not valid JSON"},
      {"[1, 2]", "not a JSON object"},
      {R"({"accuracy": 0.9})", "no \"round\""},
      {R"({"round": "3"})", "\"round\" is not an integer"},
      {R"({"round": 3, "bytes_up": -1})", "\"bytes_up\" is not a count"},
      {R"({"round": 3, "sites_reported": ["a", 2]})", "\"sites_reported\" holds a non-string"},
      {R"({"round": 3, "central": {"h": {"confusion": [[1, "x"]]}}})",
       "\"central.h.confusion\" is not a matrix of counts"},
      {R"({"round": 3, "secagg": {"threshold": 1.5}})", "\"secagg.threshold\" is not a count"},
      {R"({"round": 3, "site_images": {"a": 5}})", "\"site_images.a\" is not an object"},
      {R"({"round": 3, "site_images": {"a": {"train": 0.5}}})",
       "\"site_images.a.train\" is not an integer"},
  };
  for (const Case& c : cases) {
    Result<RoundRecord> r = ParseRoundRecord(c.line, 7);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << c.line;
    EXPECT_NE(r.status().message().find("metrics.jsonl line 7: "), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << r.status().message();
  }
}

TEST(RoundsTableTest, PrintsValidRowsAndSkipsAHalfWrittenLine) {
  testing::TempDir dir("fedsmear-rounds");
  const auto path = dir.path() / "metrics.jsonl";
  RoundRecord r = FullRecord();
  {
    std::ofstream f(path);
    f << ToJsonLine(r) << "\n" << R"({"round": 4, "sites_rep)";
  }
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buf, &size);
  ASSERT_NE(out, nullptr);
  {
    RoundsTable table(path, out);
    EXPECT_EQ(table.Poll(), 3);
    EXPECT_EQ(table.rows(), 1);
    std::ofstream(path, std::ios::app) << "\n";  // (the coordinator rewrites the line whole)
    r.round = 4;
    std::ofstream(path, std::ios::app) << ToJsonLine(r) << "\n";
    EXPECT_EQ(table.Poll(), 4);
  }
  std::fclose(out);
  const std::string text(buf, size);
  std::free(buf);
  EXPECT_NE(text.find("    3       2/3"), std::string::npos) << text;
  EXPECT_NE(text.find("site-2,site-1"), std::string::npos) << text;
  EXPECT_NE(text.find("    4       2/3"), std::string::npos) << text;
}

}  // namespace
}  // namespace fedsmear
