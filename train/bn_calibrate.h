// Batch-norm recalibration: recompute every BatchNorm layer's running statistics for a model's
// current weights from a site's images (forward passes in training mode, no gradient, no
// augmentation), as PyTorch's swa_utils.update_bn does for averaged weights.
//
// Why: after a federated round the global weights are an average (or a sign vote) that no site
// trained, and the averaged running statistics belong to the sites' own weights, not to it.
// Recomputing them for the new weights is what the coordinator's `bn_recalibration` stage asks
// the sites to do (models/bn_statistics.h pools their answers), and what
// `fedsmear calibrate` does on one image set.
//
// Thread-safety: one call at a time per model. Ownership: borrows model and dataset.
#pragma once

#include <cstdint>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "data/dataset.h"
#include "models/bn_statistics.h"
#include "models/densenet.h"
#include "models/model_state.h"

namespace fedsmear {

struct CalibrateOptions {
  int input_size = 64;
  PreprocessConfig preprocess;
  int max_images = 1024;   // a seeded random subset of `indices` when there are more
  int batch_size = kMaxBnCalibrationBatch;  // one batch of every image: eval-mode statistics
  int loader_threads = 1;
  uint64_t seed = 1;
};

struct CalibrateStats {
  int64_t images = 0;   // images the statistics were computed from
  int64_t batches = 0;
};

// Replaces the running mean and variance of every BatchNorm layer of `model` by the cumulative
// average of its batch statistics over up to max_images images; the model is left in eval mode
// with its BN momentum as it was. FailedPrecondition when fewer than 2 images could be read (the
// statistics are then left as they were).
Result<CalibrateStats> CalibrateBatchNorm(DenseNet& model, const Dataset& data,
                                          const std::vector<size_t>& indices,
                                          const CalibrateOptions& options);

// Gives every BatchNorm layer of `model` fresh running statistics, accumulated from now on as a
// cumulative average (momentum "None"): what a recalibration's forward passes in training mode
// start from. The layers' momentum is not restored (CalibrateBatchNorm restores it).
void ResetBatchNormStatistics(DenseNet& model);

// The same with the 1-bit engine (infer/engine.h AccumulateBatchNormStatistics) for a binarized
// model: the same images and batches, written into `model`'s running_mean/running_var tensors.
// Its statistics are as close to exact (float64) arithmetic as LibTorch's float32 forward: a
// binary layer's input is sign(BN(x)), and a value within float rounding of zero flips in
// either, so both part from the exact statistics with depth (tests/train/bn_calibrate_test.cc;
// bench/bn_precision_bench on real images). What the sites use for binarized models unless
// eval_engine is torch. `threads`: the engine's.
Result<CalibrateStats> CalibrateBatchNormBinary(ModelState* model, const Dataset& data,
                                                const std::vector<size_t>& indices,
                                                const CalibrateOptions& options, int threads);

// Recalibrates `state`'s statistics with the engine `engine` picks for its architecture
// (train/engine_eval.h UsesBinaryEngine): the 1-bit engine, or LibTorch's `model` (holding
// `state`'s weights; built from `state` when null), whose statistics are then written into
// `state`. The one place a site's recalibration and `fedsmear calibrate` choose. `threads`: the
// 1-bit engine's. Errors as the two functions above and UsesBinaryEngine; `state` is then as it
// was.
Result<CalibrateStats> CalibrateState(ModelState* state, DenseNet* model, const Dataset& data,
                                      const std::vector<size_t>& indices,
                                      const CalibrateOptions& options, EvalEngine engine,
                                      int threads);

}  // namespace fedsmear
