// The binary engine's loaded model (infer/engine.h), shared by the files that run it:
// engine.cc (loading, eval-mode forward) and engine_bn.cc (training-mode batch-norm
// statistics). Internal to fedsmear_infer.
//
// Thread-safety: immutable after FromState but for `pool`, whose regions TryRun serialises
// itself; its const methods may run concurrently.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "infer/binary_conv.h"
#include "infer/engine.h"
#include "infer/float_ops.h"
#include "infer/thread_pool.h"

namespace fedsmear::infer {

// A batch-norm layer's affine parameters as trained (training-mode statistics need them apart
// from the eval-mode affine, which folds in the running statistics).
struct BnParams {
  std::vector<float> gamma, beta;
};

struct DenseLayer {
  BnAffine bn;
  BnParams params;
  PackedConvWeights conv;
};

struct Block {
  int in_channels = 0;
  int total_channels = 0;
  std::vector<DenseLayer> layers;
  bool has_transition = false;
  BnAffine trans_bn;
  BnParams trans_params;
  PackedMatrix trans_conv;
};

struct BinaryEngine::Impl {
  ModelMeta meta;
  EngineOptions options;
  Isa isa = Isa::kReference;
  bool large_stem = false;
  int stem_kernel = 3, stem_stride = 1, stem_pad = 1, stem_channels = 0;
  PackedMatrix stem_conv;
  BnAffine stem_bn;
  BnParams stem_params;
  std::vector<Block> blocks;
  BnAffine head_bn;
  BnParams head_params;
  PackedMatrix head_fc;
  std::vector<float> head_bias;

  // options.threads - 1 worker threads (null with one thread); Forward's and the batch-norm
  // pass's parallel regions.
  std::unique_ptr<ThreadPool> pool;
  // Largest feature map (floats) and packed activation (words) of any block; the stem's
  // output side (pixels before its max pool).
  size_t max_map_floats = 0, max_bits_words = 0;
  int stem_out_size = 0;

  // One image's buffers. In a split layer every worker writes its own pixels of them.
  struct Workspace {
    std::vector<float> hwc, cols, stem_out, x[2], pooled, head;
    std::vector<uint64_t> bits[2];
  };
  // The calling thread's workspace (kept between calls: no page faults per image).
  static Workspace& ThreadWorkspace();

  // One image; each layer's output pixels split over `pool` when given (else on this thread).
  void ForwardOne(const float* chw, float* logits, Workspace& ws, Profile* profile,
                  ThreadPool* pool) const;
  // engine_bn.cc: one batch in training mode, each BN layer's batch statistics into `out`.
  void TrainModeStatistics(const float* images, int n, BnStatistics* out) const;
  size_t WeightBytes() const;
  // Sets max_map_floats, max_bits_words and stem_out_size from the loaded layers.
  void PlanBuffers();
};

// fn(range) over the pixels [0, pixels): in chunks claimed by the pool's workers, or in one
// piece on this thread when there is no pool or it is busy with another caller's region.
template <class Fn>
void SplitPixels(ThreadPool* pool, int pixels, Fn&& fn) {
  constexpr int kChunksPerThread = 4;  // spare chunks for a worker that gets its core late
  if (pool != nullptr && pixels >= 2) {
    const int parts = std::min(pixels, kChunksPerThread * pool->threads());
    const bool ran = pool->TryRun(parts, [&](int part, int) {
      const std::pair<int, int> r = PartRange(pixels, parts, part);
      fn(PixelRange{r.first, r.second});
    });
    if (ran) return;
  }
  fn(PixelRange{0, pixels});
}

// fn(i, worker) for i in [0, n) over the pool's workers, or in turn on this thread (worker 0).
template <class Fn>
void ForEachTask(ThreadPool* pool, int n, Fn&& fn) {
  if (pool != nullptr && pool->TryRun(n, fn)) return;
  for (int i = 0; i < n; ++i) fn(i, 0);
}

}  // namespace fedsmear::infer
