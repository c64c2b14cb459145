// The binary engine's loaded model (infer/engine.h), shared by the files that run it:
// engine.cc (loading, eval-mode forward) and engine_bn.cc (training-mode batch-norm
// statistics). Internal to fedsmear_infer.
//
// Thread-safety: immutable after FromState; its const methods may run concurrently.
#pragma once

#include <string>
#include <vector>

#include "infer/binary_conv.h"
#include "infer/engine.h"
#include "infer/float_ops.h"

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

  struct Workspace {
    std::vector<float> hwc, cols, stem_out, x, pooled, head;
    std::vector<uint64_t> bits;
  };

  void ForwardOne(const float* chw, float* logits, Workspace& ws, Profile* profile) const;
  // engine_bn.cc: one batch in training mode, each BN layer's batch statistics into `out`.
  void TrainModeStatistics(const float* images, int n, BnStatistics* out) const;
  size_t WeightBytes() const;
};


}  // namespace fedsmear::infer
