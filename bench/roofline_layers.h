// The layers of a binarized BinaryDenseNet as the binary engine runs them for one image on one
// thread (infer/engine.cc), each a callable over the public kernels (infer/binary_conv.h,
// infer/float_ops.h) with its own weights and buffers, for bench/infer_roofline_bench.cc.
//
//   stem          im2col + GEMM + BN + ReLU (7x7/2, inputs >= 50 px) or im2col + GEMM (3x3/1)
//   stem.pool     3x3/2 max pool + the first layer's sign packing (large stem only)
//   blockB.layerL XNOR-popcount 3x3 conv + the next layer's BN and sign packing (the engine
//                 fuses them so; a block's first packing is the stem's or transition's)
//   transB        BN + 2x2 max pool + ReLU + 1x1 GEMM + the next block's first packing
//   head          BN + ReLU + global mean + dense
// Work: bit MACs of the 3x3 taps inside the image (the kernel skips padding taps) times input
// channels times outputs; GEMM FLOPs (2 m k n, n unpadded); 0 for the rest. Values are random
// (kernel speed does not depend on them).
//
// Thread-safety: a layer's run() writes the set's buffers: one call at a time per set.
// Ownership: the set owns weights and buffers; layers() borrows them. Not movable (the runs
// point into it): held by unique_ptr.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "infer/binary_conv.h"
#include "infer/float_ops.h"

namespace fedsmear::bench {

enum class LayerKind { kBinary, kFloat, kOther };

struct LayerRun {
  std::string name;
  LayerKind kind = LayerKind::kOther;
  double ops = 0;  // bit MACs (kBinary) or FLOPs (kFloat)
  std::function<void()> run;
};

class LayerSet {
 public:
  static Result<std::unique_ptr<LayerSet>> Make(const std::string& arch, int input_size,
                                                infer::Isa isa);
  LayerSet(const LayerSet&) = delete;
  LayerSet& operator=(const LayerSet&) = delete;

  const std::vector<LayerRun>& layers() const { return layers_; }

 private:
  LayerSet() = default;

  std::vector<LayerRun> layers_;
  // Weights (stable addresses: reserved up front) and one image's buffers.
  std::vector<infer::PackedConvWeights> convs_;
  std::vector<infer::PackedMatrix> mats_;
  std::vector<infer::BnAffine> bns_;
  std::vector<float> input_, cols_, stem_out_, x_[2], pooled_, head_;
  std::vector<uint64_t> bits_;
};

}  // namespace fedsmear::bench
