#include "train/engine_eval.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "data/loader.h"
#include "models/arch.h"

namespace fedsmear {

Result<bool> UsesBinaryEngine(EvalEngine engine, const std::string& arch) {
  if (engine == EvalEngine::kTorch) return false;
  ASSIGN_OR_RETURN(ArchSpec spec, FindArch(arch));
  if (engine == EvalEngine::kBinary && !spec.binary) {
    return InvalidArgument("eval_engine binary: " + arch +
                           " is not binarized; use auto or torch for float models");
  }
  return spec.binary;
}

std::vector<double> Softmax(const float* logits, int n) {
  const float top = *std::max_element(logits, logits + n);
  std::vector<double> p(n);
  double sum = 0;
  for (int k = 0; k < n; ++k) sum += p[k] = std::exp(static_cast<double>(logits[k]) - top);
  for (double& v : p) v /= sum;
  return p;
}

Result<EvalStats> EvaluateBinary(const infer::BinaryEngine& engine, const Dataset& data,
                                 const std::vector<size_t>& indices,
                                 const PreprocessConfig& preprocess, int loader_threads,
                                 int batch_size, const ProgressFn& progress) {
  const int classes = engine.meta().classes;
  LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.input_size = engine.meta().input_size;
  lo.pre = preprocess;
  lo.train = false;
  lo.threads = loader_threads;
  lo.cache = false;
  BatchLoader loader(data, indices, lo);
  loader.StartEpoch(0);
  EvalStats stats{0, ConfusionMatrix(classes)};
  double loss_sum = 0;
  Batch b;
  std::vector<float> logits;
  int64_t batch_index = 0;
  while (loader.Next(&b)) {
    logits.resize(static_cast<size_t>(b.n) * classes);
    engine.Forward(b.images.data(), b.n, logits.data());
    for (int i = 0; i < b.n; ++i) {
      const float* row = logits.data() + static_cast<size_t>(i) * classes;
      const int64_t label = b.labels[i];
      if (label < 0 || label >= classes) {
        return InvalidArgument("label " + std::to_string(label) + " outside the model's " +
                               std::to_string(classes) + " classes");
      }
      loss_sum -= std::log(std::max(Softmax(row, classes)[label], 1e-300));
      stats.confusion.Add(label, std::max_element(row, row + classes) - row);
    }
    if (progress) {
      const int64_t seen = stats.confusion.total();
      progress({0, batch_index++, loader.BatchesPerEpoch(), seen, loss_sum / seen});
    }
  }
  const int64_t n = stats.confusion.total();
  stats.loss = n ? loss_sum / n : 0;
  return stats;
}

Result<StateScorer> StateScorer::Create(const ModelState& state, DenseNet* model,
                                        const ScoreOptions& options) {
  ASSIGN_OR_RETURN(const bool binary, UsesBinaryEngine(options.engine, state.meta.arch));
  StateScorer scorer;
  scorer.options_ = options;
  if (binary) {
    infer::EngineOptions eo;
    eo.threads = std::max(1, options.threads);
    ASSIGN_OR_RETURN(infer::BinaryEngine engine, infer::BinaryEngine::FromState(state, eo));
    scorer.engine_.emplace(std::move(engine));
  } else if (model != nullptr) {
    scorer.model_ = *model;  // the holder: the same module
  } else {
    ASSIGN_OR_RETURN(DenseNet built, ModelFromState(state));
    scorer.model_ = std::move(built);
  }
  return scorer;
}

Result<EvalStats> StateScorer::Score(const Dataset& data, const std::vector<size_t>& indices,
                                     const ProgressFn& progress) const {
  if (engine_) {
    return EvaluateBinary(*engine_, data, indices, options_.preprocess, options_.loader_threads,
                          64, progress);
  }
  DenseNet model = *model_;
  return Evaluate(model, data, indices, options_.input_size, options_.preprocess,
                  options_.loader_threads, 64, progress);
}

Result<EvalStats> EvaluateState(const ModelState& state, DenseNet* model, const Dataset& data,
                                const std::vector<size_t>& indices, const ScoreOptions& options) {
  ASSIGN_OR_RETURN(StateScorer scorer, StateScorer::Create(state, model, options));
  return scorer.Score(data, indices);
}

}  // namespace fedsmear
