// EvaluateBinary (torch-free binary engine), StateScorer and EvaluateState against Evaluate
// (LibTorch) on a briefly trained model and synthetic images through the same loader: the same
// confusion matrix.
#include "train/engine_eval.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data/synth.h"
#include "train/central_eval.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

std::vector<size_t> All(const Dataset& d) {
  std::vector<size_t> i(d.samples.size());
  for (size_t k = 0; k < i.size(); ++k) i[k] = k;
  return i;
}

TEST(EngineEvalTest, BinaryEngineGivesTorchsMetricsOnATrainedModel) {
  testing::TempDir dir("engine_eval");
  SynthOptions s;
  s.per_class = 24;
  s.size = 48;
  ASSERT_TRUE(WriteSynthDataset(s, (dir.path() / "train").string()).ok());
  s.per_class = 12;
  s.seed = 5;
  ASSERT_TRUE(WriteSynthDataset(s, (dir.path() / "test").string()).ok());
  auto train = OpenDataset((dir.path() / "train").string(), {});
  ASSERT_TRUE(train.ok()) << train.status();
  auto test = OpenDataset((dir.path() / "test").string(), train->class_names);
  ASSERT_TRUE(test.ok()) << test.status();

  torch::manual_seed(3);
  DenseNet model = *MakeModel("bdn-tiny", 8, 48);
  TrainOptions o;
  o.train.local_epochs = 2;
  o.train.batch_size = 16;
  o.train.learning_rate = 3e-3;
  o.input_size = 48;
  ASSERT_TRUE(TrainLocal(model, *train, All(*train), o).ok());

  auto torch_ev = Evaluate(model, *test, All(*test), 48, PreprocessConfig{});
  ASSERT_TRUE(torch_ev.ok()) << torch_ev.status();
  infer::EngineOptions eo;
  eo.threads = 2;
  auto engine = infer::BinaryEngine::FromState(ExportState(model, train->class_names), eo);
  ASSERT_TRUE(engine.ok()) << engine.status();
  auto bin_ev = EvaluateBinary(*engine, *test, All(*test), PreprocessConfig{});
  ASSERT_TRUE(bin_ev.ok()) << bin_ev.status();

  EXPECT_EQ(bin_ev->confusion.total(), 96);
  EXPECT_EQ(bin_ev->confusion.ToJson(test->class_names),
            torch_ev->confusion.ToJson(test->class_names));
  EXPECT_NEAR(bin_ev->loss, torch_ev->loss, 1e-4 * (1 + std::fabs(torch_ev->loss)));

  // EvaluateState and StateScorer (a site's validation, central evaluation, `fedsmear
  // train|evaluate`): whichever engine the setting picks, with LibTorch's model given or built
  // from the state, the same scores; one scorer serves several sets and reports each batch.
  const ModelState state = ExportState(model, train->class_names);
  auto train_ev = Evaluate(model, *train, All(*train), 48, PreprocessConfig{});
  ASSERT_TRUE(train_ev.ok()) << train_ev.status();
  ScoreOptions so;
  so.input_size = 48;
  so.threads = 2;
  for (EvalEngine e : {EvalEngine::kAuto, EvalEngine::kBinary, EvalEngine::kTorch}) {
    for (DenseNet* given : {&model, static_cast<DenseNet*>(nullptr)}) {
      so.engine = e;
      auto ev = EvaluateState(state, given, *test, All(*test), so);
      ASSERT_TRUE(ev.ok()) << ev.status();
      EXPECT_EQ(ev->confusion.ToJson(test->class_names),
                torch_ev->confusion.ToJson(test->class_names));
      EXPECT_NEAR(ev->loss, torch_ev->loss, 1e-4 * (1 + std::fabs(torch_ev->loss)));

      auto scorer = StateScorer::Create(state, given, so);
      ASSERT_TRUE(scorer.ok()) << scorer.status();
      EXPECT_EQ(scorer->binary(), e != EvalEngine::kTorch);
      std::vector<ProgressTick> ticks;
      auto on_train = scorer->Score(*train, All(*train),
                                    [&](const ProgressTick& t) { ticks.push_back(t); });
      auto on_test = scorer->Score(*test, All(*test));
      ASSERT_TRUE(on_train.ok() && on_test.ok());
      EXPECT_EQ(on_train->confusion.ToJson(train->class_names),
                train_ev->confusion.ToJson(train->class_names));
      EXPECT_EQ(on_test->confusion.ToJson(test->class_names),
                torch_ev->confusion.ToJson(test->class_names));
      ASSERT_EQ(ticks.size(), 3u) << "192 images in batches of 64";
      EXPECT_EQ(ticks.back().images, 192);
      EXPECT_EQ(ticks.back().batch, 2);
    }
  }
}

// The coordinator's central evaluation scores a binarized model with the 1-bit engine by default
// and gives exactly LibTorch's predictions; a float model under eval_engine binary is an error.
TEST(EngineEvalTest, CentralEvaluationOnTheEngineGivesTorchsPredictions) {
  testing::TempDir dir("central_engine");
  SynthOptions s;
  s.per_class = 10;
  s.size = 32;
  ASSERT_TRUE(WriteSynthDataset(s, (dir.path() / "train").string()).ok());
  auto train = OpenDataset((dir.path() / "train").string(), {});
  ASSERT_TRUE(train.ok()) << train.status();
  torch::manual_seed(5);
  DenseNet model = *MakeModel("bdn-tiny", 8, 32);
  TrainOptions o;
  o.train.batch_size = 16;
  o.input_size = 32;
  ASSERT_TRUE(TrainLocal(model, *train, All(*train), o).ok());
  const ModelState state = ExportState(model, train->class_names);
  const std::vector<HoldoutSet> sets = {{"held", (dir.path() / "train").string()}};
  std::vector<std::vector<HoldoutResult>> results;
  for (EvalEngine engine : {EvalEngine::kAuto, EvalEngine::kBinary, EvalEngine::kTorch}) {
    auto eval = CentralEvaluator::Create(sets, train->class_names, 32, PreprocessConfig{},
                                         CentralEvalOptions{engine, 2});
    ASSERT_TRUE(eval.ok()) << eval.status();
    auto r = (*eval)->Evaluate(state);
    ASSERT_TRUE(r.ok()) << r.status();
    results.push_back(*r);
  }
  for (size_t k = 1; k < results.size(); ++k) {
    EXPECT_EQ(results[k][0].confusion.ToJson(train->class_names),
              results[0][0].confusion.ToJson(train->class_names));
    EXPECT_NEAR(results[k][0].loss, results[0][0].loss, 1e-4 * (1 + results[0][0].loss));
  }
  EXPECT_EQ(*UsesBinaryEngine(EvalEngine::kAuto, "bdn-tiny"), true);
  EXPECT_EQ(*UsesBinaryEngine(EvalEngine::kTorch, "bdn-tiny"), false);
  EXPECT_EQ(*UsesBinaryEngine(EvalEngine::kAuto, "densenet28"), false);
  EXPECT_FALSE(UsesBinaryEngine(EvalEngine::kBinary, "densenet28").ok());
}

TEST(EngineEvalTest, SoftmaxIsStableAndNormalised) {
  const float logits[3] = {1000.0f, 999.0f, -1000.0f};
  std::vector<double> p = Softmax(logits, 3);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-12);
  EXPECT_NEAR(p[0] / p[1], std::exp(1.0), 1e-9);
  EXPECT_EQ(p[2], 0.0);
}

}  // namespace
}  // namespace fedsmear
