// BinaryEngine: torch-free eval-mode inference of a binarized BinaryDenseNet (models/arch.h) from
// its ModelState or packed model file (final.model / best.model).
//
// Computes what DenseNetImpl::forward computes in eval mode: float stem (im2col + GEMM; BN +
// ReLU + 3x3/2 max-pool for inputs >= 50 px), every dense layer as BN -> sign -> bit-packed
// XNOR-popcount 3x3 conv (infer/binary_conv.h) concatenated onto its input, transitions as
// BN -> 2x2 max-pool -> ReLU -> 1x1 conv, head BN -> ReLU -> global mean -> dense. Binary
// weights are packed once at load; only their signs matter (w >= 0 -> +1).
//
// Threads: the engine owns a pool of options.threads - 1 worker threads (infer/thread_pool.h;
// none with one thread), started at load and joined when the engine is destroyed. Forward
// splits a batch across them by images (whole rounds of `threads` images, one image per
// thread) and runs the remaining images -- all of a batch smaller than `threads`, so batch 1 --
// one after another with each layer's output pixels split across them (ThreadSplit). Every
// output value is computed the same way under any split: logits are bit-identical for any
// thread count and split.
//
// Thread-safety: Forward and AccumulateBatchNormStatistics are const and may be called
// concurrently from several threads; the pool runs one call's parallel work at a time, and a
// call that finds it busy does its work on its own thread (same results, less parallelism).
// Ownership: the engine owns its packed weights and its pool; Forward's buffers belong to the
// caller; scratch buffers (one image: about 2 MB for bdn28 at 64 px) stay with each thread
// that runs an image (the caller's, the pool's) between calls. Move-only value.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "infer/binary_conv.h"
#include "models/model_state.h"

namespace fedsmear::infer {

// How Forward spreads a batch over the engine's threads.
enum class ThreadSplit {
  kAuto,    // whole rounds of `threads` images across threads, the rest split inside layers
  kImages,  // images across threads only (at batch 1 one thread works)
  kLayers,  // one image after another, each layer split across threads
};

struct EngineOptions {
  int threads = 1;          // threads of Forward and the batch-norm pass, the caller's included
  std::optional<Isa> isa;   // kernels to use; default BestIsa(); an unsupported one is an error
  ThreadSplit split = ThreadSplit::kAuto;
};

// Seconds spent per kind of layer over Forward calls given a Profile: summed over the threads
// for images run one per thread, wall time for images whose layers are split.
struct Profile {
  double binary_s = 0;  // sign packing + XNOR-popcount convolutions
  double float_s = 0;   // stem, transitions, head
};

// Batch-norm statistics gathered in training mode, batch after batch
// (BinaryEngine::AccumulateBatchNormStatistics): per BN layer, named by its tensor prefix
// ("block1.layer2.bn"), the cumulative average of the batches' means and unbiased variances,
// which is what LibTorch keeps as running statistics in training mode with momentum None.
// Plain value; not synchronised.
class BnStatistics {
 public:
  // One layer's statistics of the batch being added (EndBatch closes it).
  void Add(const std::string& layer, const std::vector<double>& mean,
           const std::vector<double>& unbiased_var);
  void EndBatch() { ++batches_; }
  int64_t batches() const { return batches_; }
  // Writes <layer>.running_mean and <layer>.running_var of every layer into `state`.
  // InvalidArgument when no batch was added or a tensor is missing or of another size.
  Status WriteInto(ModelState* state) const;

 private:
  struct Layer {
    std::vector<double> mean, var;
  };
  std::map<std::string, Layer> layers_;
  int64_t batches_ = 0;
};

class BinaryEngine {
 public:
  // Fails when the architecture is unknown or not binarized, or a tensor is missing or has the
  // wrong shape.
  static Result<BinaryEngine> FromState(const ModelState& state, const EngineOptions& options = {});
  // Reads and verifies a packed model file (models/packed_model.h), then FromState.
  static Result<BinaryEngine> Load(const std::string& path, const EngineOptions& options = {});

  BinaryEngine(BinaryEngine&&) noexcept;
  BinaryEngine& operator=(BinaryEngine&&) noexcept;
  ~BinaryEngine();

  // images: n images of 3 x input_size x input_size floats (CHW, preprocessed as for training);
  // logits: n x classes. `profile` (optional) accumulates per-layer-kind time.
  void Forward(const float* images, int n, float* logits, Profile* profile = nullptr) const;

  // Runs `n` >= 2 images (as Forward takes them) through the network in training mode: every
  // batch-norm layer normalises with this batch's own statistics, whose mean and unbiased
  // variance are added to `stats` (one batch). This is the forward pass of batch-norm
  // recalibration (train/bn_calibrate.h); the model's weights are not changed.
  Status AccumulateBatchNormStatistics(const float* images, int n, BnStatistics* stats) const;

  const ModelMeta& meta() const;
  Isa isa() const;
  // Bytes of the loaded weights (packed binary kernels + float tensors).
  size_t WeightBytes() const;

 private:
  struct Impl;
  explicit BinaryEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fedsmear::infer
