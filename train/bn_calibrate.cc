#include "train/bn_calibrate.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>

#include "data/loader.h"
#include "infer/engine.h"
#include "train/engine_eval.h"

namespace fedsmear {
namespace {

std::vector<size_t> Subset(std::vector<size_t> indices, int max_images, uint64_t seed) {
  if (max_images > 0 && indices.size() > static_cast<size_t>(max_images)) {
    std::mt19937_64 rng(seed);
    std::shuffle(indices.begin(), indices.end(), rng);
    indices.resize(max_images);
    std::sort(indices.begin(), indices.end());  // read the files in folder order
  }
  return indices;
}

LoaderOptions CalibrationLoader(const CalibrateOptions& o) {
  LoaderOptions lo;
  lo.batch_size = std::max(2, o.batch_size);
  lo.input_size = o.input_size;
  lo.pre = o.preprocess;
  lo.train = false;  // no augmentation; the subset is already a random draw
  lo.threads = o.loader_threads;
  lo.cache = false;
  return lo;
}

Status NoBatches(const std::vector<size_t>& indices) {
  return FailedPrecondition("batch-norm calibration needs at least 2 readable images, got " +
                            std::to_string(indices.size()) + " indices and none usable");
}

Result<CalibrateStats> CalibrateImpl(DenseNet& model, const Dataset& data,
                                     const std::vector<size_t>& indices,
                                     const CalibrateOptions& o) {
  BatchLoader loader(data, Subset(indices, o.max_images, o.seed), CalibrationLoader(o));

  // Fresh statistics, accumulated as a cumulative average (momentum "None").
  std::vector<std::pair<torch::nn::BatchNorm2dImpl*, c10::optional<double>>> bns;
  for (auto& m : model->modules(/*include_self=*/false)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) bns.emplace_back(bn, bn->options.momentum());
  }
  std::vector<torch::Tensor> saved;  // restored if no batch could be read
  for (auto& [bn, momentum] : bns) {
    saved.push_back(bn->running_mean.clone());
    saved.push_back(bn->running_var.clone());
  }
  ResetBatchNormStatistics(model);
  torch::NoGradGuard no_grad;
  model->train();
  CalibrateStats stats;
  loader.StartEpoch(0);
  Batch b;
  while (loader.Next(&b)) {
    if (b.n < 2) continue;  // a single image has no batch variance
    model->forward(torch::from_blob(b.images.data(), {b.n, 3, o.input_size, o.input_size},
                                    torch::kFloat32));
    stats.images += b.n;
    ++stats.batches;
  }
  model->eval();
  for (size_t i = 0; i < bns.size(); ++i) {
    auto& [bn, momentum] = bns[i];
    bn->options.momentum(momentum);
    if (stats.batches == 0) {
      bn->running_mean.copy_(saved[2 * i]);
      bn->running_var.copy_(saved[2 * i + 1]);
    }
  }
  if (stats.batches == 0) return NoBatches(indices);
  return stats;
}

}  // namespace

void ResetBatchNormStatistics(DenseNet& model) {
  for (auto& m : model->modules(/*include_self=*/false)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) {
      bn->reset_running_stats();
      bn->options.momentum(c10::nullopt);
    }
  }
}

Result<CalibrateStats> CalibrateBatchNormBinary(ModelState* model, const Dataset& data,
                                                const std::vector<size_t>& indices,
                                                const CalibrateOptions& o, int threads) {
  infer::EngineOptions eo;
  eo.threads = std::max(1, threads);
  ASSIGN_OR_RETURN(infer::BinaryEngine engine, infer::BinaryEngine::FromState(*model, eo));
  BatchLoader loader(data, Subset(indices, o.max_images, o.seed), CalibrationLoader(o));
  infer::BnStatistics bn;
  CalibrateStats stats;
  loader.StartEpoch(0);
  Batch b;
  while (loader.Next(&b)) {
    if (b.n < 2) continue;  // a single image has no batch variance
    RETURN_IF_ERROR(engine.AccumulateBatchNormStatistics(b.images.data(), b.n, &bn));
    stats.images += b.n;
    ++stats.batches;
  }
  if (stats.batches == 0) return NoBatches(indices);
  RETURN_IF_ERROR(bn.WriteInto(model));
  return stats;
}

Result<CalibrateStats> CalibrateBatchNorm(DenseNet& model, const Dataset& data,
                                          const std::vector<size_t>& indices,
                                          const CalibrateOptions& options) {
  try {
    return CalibrateImpl(model, data, indices, options);
  } catch (const c10::Error& e) {
    return Internal(std::string("LibTorch failed during batch-norm calibration: ") +
                    e.what_without_backtrace());
  }
}

Result<CalibrateStats> CalibrateState(ModelState* state, DenseNet* model, const Dataset& data,
                                      const std::vector<size_t>& indices,
                                      const CalibrateOptions& options, EvalEngine engine,
                                      int threads) {
  ASSIGN_OR_RETURN(const bool binary, UsesBinaryEngine(engine, state->meta.arch));
  if (binary) return CalibrateBatchNormBinary(state, data, indices, options, threads);
  std::optional<DenseNet> built;
  if (model == nullptr) {
    ASSIGN_OR_RETURN(DenseNet m, ModelFromState(*state));
    built = std::move(m);
    model = &*built;
  }
  ASSIGN_OR_RETURN(CalibrateStats stats, CalibrateBatchNorm(*model, data, indices, options));
  *state = ExportState(*model, state->meta.class_names);
  return stats;
}

}  // namespace fedsmear
