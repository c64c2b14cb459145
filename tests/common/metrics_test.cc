#include "common/metrics.h"

#include <gtest/gtest.h>

namespace fedsmear {
namespace {

// truth\pred  a  b  c
//   a         5  1  0
//   b         2  3  1
//   c         0  0  0      (class c never occurs, never predicted? it is predicted once)
TEST(ConfusionMatrixTest, HandComputedMetrics) {
  ConfusionMatrix m(3);
  m.Add(0, 0, 5);
  m.Add(0, 1, 1);
  m.Add(1, 0, 2);
  m.Add(1, 1, 3);
  m.Add(1, 2, 1);
  EXPECT_EQ(m.total(), 12);
  EXPECT_DOUBLE_EQ(m.Accuracy(), 8.0 / 12);
  auto per = m.PerClass();
  EXPECT_DOUBLE_EQ(per[0].precision, 5.0 / 7);
  EXPECT_DOUBLE_EQ(per[0].recall, 5.0 / 6);
  EXPECT_DOUBLE_EQ(per[1].precision, 3.0 / 4);
  EXPECT_DOUBLE_EQ(per[1].recall, 3.0 / 6);
  EXPECT_EQ(per[2].support, 0);
  EXPECT_DOUBLE_EQ(per[2].f1, 0);  // predicted once, never true: counts as F1 0
  double f1a = 2 * (5.0 / 7) * (5.0 / 6) / (5.0 / 7 + 5.0 / 6);
  double f1b = 2 * 0.75 * 0.5 / 1.25;
  EXPECT_NEAR(m.MacroF1(), (f1a + f1b + 0) / 3, 1e-12);
}

TEST(ConfusionMatrixTest, AbsentClassesDoNotCountAndJsonHasEverything) {
  ConfusionMatrix m(3);
  m.Add(0, 0, 4);
  m.Add(1, 1, 2);
  m.Add(1, 0, 2);
  m.Add(7, 0);   // out of range: ignored
  m.Add(0, -1);  // ignored
  double f1a = 2 * (4.0 / 6) * 1.0 / (4.0 / 6 + 1.0);
  double f1b = 2 * 1.0 * 0.5 / 1.5;
  EXPECT_NEAR(m.MacroF1(), (f1a + f1b) / 2, 1e-12);  // class 2: no support, no predictions
  auto j = m.ToJson({"a", "b", "c"});
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.75);
  EXPECT_EQ(j["per_class"][1]["class"], "b");
  EXPECT_EQ(j["per_class"][1]["support"], 4);
  EXPECT_EQ(j["confusion"][1], nlohmann::ordered_json::array({2, 2, 0}));
  ConfusionMatrix other(3);
  other.Add(2, 2, 3);
  m.Merge(other);
  EXPECT_EQ(m.at(2, 2), 3);
  EXPECT_EQ(ConfusionMatrix(2).Accuracy(), 0);
}

}  // namespace
}  // namespace fedsmear
