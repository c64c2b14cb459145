#include "report/report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/file_util.h"
#include "report/svg.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const char* kEvilClass = "<b>&\"x\"";

// One held-out set in ConfusionMatrix::ToJson's shape, 2 classes; `right` of 10 per class correct.
Json SetJson(int right, double macro_f1) {
  Json j;
  j["accuracy"] = right / 10.0;
  j["macro_f1"] = macro_f1;
  j["samples"] = 20;
  j["per_class"] = Json::array(
      {{{"class", "normal"}, {"precision", 0.5}, {"recall", 0.5}, {"f1", 0.25}, {"support", 10}},
       {{"class", kEvilClass},
        {"precision", 0.5},
        {"recall", 0.5},
        {"f1", 0.75},
        {"support", 10}}});
  j["confusion"] = Json::array({{right, 10 - right}, {10 - right, right}});
  j["loss"] = 1.0;
  return j;
}

Json RoundJson(int round, double macro_f1, bool fail_site_3) {
  Json j;
  j["round"] = round;
  j["lr"] = 0.001;
  j["sites_selected"] = {"site-1", "site-2", "site-3"};
  j["sites_reported"] = fail_site_3 ? Json{"site-2", "site-1"} : Json{"site-1", "site-2", "site-3"};
  j["sites_failed"] = Json::object();
  if (fail_site_3) j["sites_failed"]["site-3"] = "timeout <after> 600 s";
  j["accuracy"] = 0.5 + round / 100.0;
  j["macro_f1"] = macro_f1;
  j["central"]["holdout"] = SetJson(5 + round, macro_f1);
  j["central"]["external"] = SetJson(4 + round, macro_f1 - 0.1);
  j["site_val_accuracy"] = 0.5;
  j["bytes_down"] = 3 * 1048576;
  j["bytes_up"] = 1048576;
  j["train_s"] = 1.0;
  j["round_s"] = 10.0 * round;
  j["eval_s"] = 1.5;
  return j;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("fedsmear_report_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    info_.arch = "bdn-tiny";
    info_.strategy = "fedavg";
    info_.codec_down = "f32";
    info_.codec_up = "sign1";
    info_.sites_total = 3;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void WriteMetrics(const std::string& text) { std::ofstream(dir_ + "/metrics.jsonl") << text; }
  // Rounds 1-3 with best macro-F1 in round 2, site-3 failing in round 2 and a malformed line.
  void WriteStandardRun() {
    WriteMetrics(RoundJson(1, 0.40, false).dump() + "\n" + RoundJson(2, 0.70, true).dump() +
                 "\n{\"round\": 9, \"truncated\n" + RoundJson(3, 0.60, false).dump() + "\n");
  }
  std::string Read(const std::string& name) { return *ReadFile(dir_ + "/" + name); }

  std::string dir_;
  ReportInfo info_;
};

TEST_F(ReportTest, WritesEveryChartExactlyOnce) {
  WriteStandardRun();
  ASSERT_TRUE(WriteRunReport(dir_, info_).ok());
  const std::string html = Read("report.html");
  for (const char* id : {"chart-accuracy", "chart-macro-f1", "chart-bytes", "chart-participation",
                         "chart-confusion-holdout", "chart-confusion-external"}) {
    EXPECT_EQ(Count(html, std::string("id=\"") + id + "\""), 1u) << id;
  }
  EXPECT_EQ(Count(html, "<svg"), 6u);
  EXPECT_EQ(Count(html, "</svg>"), 6u);
  EXPECT_EQ(Count(html, "chart-federated"), 0u);  // no "federated" objects in this run
  EXPECT_EQ(Count(html, "<script"), 0u);
  EXPECT_EQ(Count(html, "http"), 0u);  // self-contained: no external URLs
  EXPECT_NE(html.find("bdn-tiny"), std::string::npos);
  EXPECT_NE(html.find("timeout &lt;after&gt; 600 s"), std::string::npos);  // failure tooltip
  EXPECT_NE(html.find("1 malformed line"), std::string::npos);
}

TEST_F(ReportTest, EscapesClassNamesAndSiteIds) {
  WriteStandardRun();
  ASSERT_TRUE(WriteRunReport(dir_, info_).ok());
  const std::string html = Read("report.html");
  EXPECT_EQ(html.find(kEvilClass), std::string::npos);
  EXPECT_EQ(html.find("<b>&"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;&amp;&quot;x&quot;"), std::string::npos);
  const std::string md = Read("summary.md");
  EXPECT_NE(md.find("\\<b\\>\\&\"x\""), std::string::npos) << md;
}

TEST_F(ReportTest, SummaryHasRoundsBestAndLast) {
  WriteStandardRun();
  ASSERT_TRUE(WriteRunReport(dir_, info_).ok());
  const std::string md = Read("summary.md");
  EXPECT_NE(md.find("| Round | Sites | holdout acc | holdout macro-F1 | external acc | external "
                    "macro-F1 | MiB down | MiB up | Round s |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 1 | 3/3 | 0.6000 | 0.4000 | 0.5000 | 0.3000 | 3.00 | 1.00 | 10.0 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 2 | 2/3 | 0.7000 | 0.7000 | 0.6000 | 0.6000 | 3.00 | 1.00 | 20.0 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 3 | 3/3 | 0.8000 | 0.6000 |"), std::string::npos) << md;
  EXPECT_EQ(md.find("| 9 |"), std::string::npos);  // the malformed line is skipped
  EXPECT_NE(md.find("**Best round** (by macro-F1): 2 (macro-F1 0.7000, accuracy 0.5200)"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("**Last round**: 3 (macro-F1 0.6000, accuracy 0.5300)"), std::string::npos);
  EXPECT_NE(md.find("12.00 MiB (9.00 MiB down, 3.00 MiB up)"), std::string::npos) << md;
  // Wall time: the training rounds (10 + 20 + 30 s) and their evaluation stages (3 x 1.5 s).
  EXPECT_NE(md.find("**Total wall time**: 64.5 s over 3 rounds"), std::string::npos) << md;
  EXPECT_NE(md.find("## Final per-class F1 (round 3)"), std::string::npos);
  EXPECT_NE(md.find("| normal | 0.2500 | 10 | 0.2500 | 10 |"), std::string::npos) << md;
}

TEST_F(ReportTest, FederatedChartWhenPresent) {
  Json a = RoundJson(1, 0.4, false), b = RoundJson(2, 0.5, false);
  b["federated"] = {{"accuracy", 0.8}, {"loss", 0.3}, {"samples", 100}, {"sites", 3}};
  WriteMetrics(a.dump() + "\n" + b.dump() + "\n");
  ASSERT_TRUE(WriteRunReport(dir_, info_).ok());
  EXPECT_EQ(Count(Read("report.html"), "id=\"chart-federated\""), 1u);
  EXPECT_NE(Read("summary.md").find("| 2 | 3/3 | 0.7000 | 0.5000 | 0.6000 | 0.4000 | 0.8000 |"),
            std::string::npos);
}

TEST_F(ReportTest, MissingOrEmptyMetricsIsAClearError) {
  Status missing = WriteRunReport(dir_, info_);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("metrics.jsonl"), std::string::npos);
  EXPECT_EQ(WriteRunReport(dir_ + "/nope", info_).code(), StatusCode::kNotFound);
  WriteMetrics("");
  Status empty = WriteRunReport(dir_, info_);
  EXPECT_EQ(empty.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(empty.message().find("no valid round"), std::string::npos) << empty;
  WriteMetrics("not json\n[1,2]\n");
  EXPECT_EQ(WriteRunReport(dir_, info_).code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(fs::exists(dir_ + "/report.html"));
}

TEST(SvgTest, HelpersEscapeAndTick) {
  EXPECT_EQ(HtmlEscape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  EXPECT_EQ(HtmlId("chart-confusion-", "PBC test/2"), "chart-confusion-PBC-test-2");
  EXPECT_EQ(Fixed(-0.0001, 2), "0.00");
  std::vector<double> ticks = NiceTicks(0.13, 0.97, 6);
  EXPECT_LE(ticks.front(), 0.13);
  EXPECT_GE(ticks.back(), 0.97);
  EXPECT_LE(ticks.size(), 7u);
  EXPECT_GE(NiceTicks(5, 5, 6).size(), 2u);
}

}  // namespace
}  // namespace fedsmear
