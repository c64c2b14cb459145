// The BinaryDenseNet family in LibTorch, after larq-zoo's topology.
//
//   stem        7x7/2 conv 64 -> BN -> ReLU -> 3x3/2 max-pool   (input < 50 px: 3x3/1 conv only)
//   dense layer BN -> binary 3x3 conv (growth filters), concatenated onto its input
//   transition  BN -> 2x2 max-pool -> ReLU -> 1x1 conv to round(C/reduction/32)*32 channels
//   head        BN -> ReLU -> global average pool -> dense
// Binary convolutions binarize inputs and kernels with sign() and a straight-through estimator
// (gradient passes where |x| <= 1.3); latent weights are clipped to +-1.3 by ClipLatentWeights()
// after each optimizer step. Float twins (densenet*) put a ReLU where the sign would be.
//
// Tensor names are stable and shared with the Python twin (bench/py/binary_densenet.py):
// stem.conv.weight, stem.bn.*, block{b}.layer{i}.{bn,conv}.*, trans{b}.{bn,conv}.*,
// head.{bn,fc}.* (b, i from 1).
//
// Thread-safety: a module is used by one thread at a time. Ownership: DenseNet is LibTorch's
// shared module holder; clone() for an independent copy.
#pragma once

#include <torch/torch.h>

#include <set>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "models/arch.h"
#include "models/model_state.h"

namespace fedsmear {

inline constexpr double kBinaryClip = 1.3;

// sign(x) (x >= 0 -> +1) with the straight-through estimator: d/dx = 1 where |x| <= clip.
torch::Tensor SteSign(const torch::Tensor& x, double clip = kBinaryClip);

class DenseNetImpl : public torch::nn::Module {
 public:
  DenseNetImpl(const ArchSpec& arch, int classes, int input_size, double bn_momentum = 0.1);

  torch::Tensor forward(torch::Tensor x);

  // Clamps binary-conv latent weights to [-clip, clip]; call after every optimizer step.
  void ClipLatentWeights(double clip = kBinaryClip);
  void SetBatchNormMomentum(double momentum);

  const ArchSpec& arch() const { return arch_; }
  int classes() const { return classes_; }
  int input_size() const { return input_size_; }
  bool IsBinaryParam(const std::string& name) const { return binary_names_.count(name) > 0; }

 private:
  struct DenseLayer {
    torch::nn::BatchNorm2d bn{nullptr};
    torch::nn::Conv2d conv{nullptr};
  };
  struct Transition {
    torch::nn::BatchNorm2d bn{nullptr};
    torch::nn::Conv2d conv{nullptr};
  };

  ArchSpec arch_;
  int classes_;
  int input_size_;
  torch::nn::Conv2d stem_conv_{nullptr};
  torch::nn::BatchNorm2d stem_bn_{nullptr};  // null for the small-input stem
  std::vector<std::vector<DenseLayer>> blocks_;
  std::vector<Transition> transitions_;
  torch::nn::BatchNorm2d head_bn_{nullptr};
  torch::nn::Linear head_fc_{nullptr};
  std::set<std::string> binary_names_;
};
TORCH_MODULE(DenseNet);

// Builds a randomly initialised model (seeded by torch::manual_seed by the caller).
Result<DenseNet> MakeModel(const std::string& arch, int classes, int input_size,
                           double bn_momentum = 0.1);

// Counts trainable parameters: {all, binary}.
std::pair<int64_t, int64_t> CountParameters(DenseNet& model);

// Model <-> torch-free state (parameters then BN running statistics; num_batches_tracked is
// not part of the state).
ModelState ExportState(DenseNet& model, const std::vector<std::string>& class_names);
// One tensor as a NamedTensor (a float32 copy), e.g. an optimizer's moment of a parameter.
NamedTensor ToNamed(const std::string& name, const torch::Tensor& t,
                    TensorKind kind = TensorKind::kFloat);
// Copies `state` into `model` after checking names, shapes and metadata.
Status ImportState(const ModelState& state, DenseNet& model);

// Builds the model a state describes and loads it.
Result<DenseNet> ModelFromState(const ModelState& state, double bn_momentum = 0.1);

// Packed model files (models/packed_model.h) and float checkpoints read by either.
Result<ModelState> LoadModelFile(const std::string& path);

// Python-readable float weights: a dict name -> tensor that `torch.load` opens.
Status ExportTorchPickle(const ModelState& state, const std::string& path);

// Full training state (latent weights + optimizer state) for resuming local training.
Status SaveTrainingState(DenseNet& model, torch::optim::Optimizer& optimizer,
                         const std::string& path);
Status LoadTrainingState(const std::string& path, DenseNet& model,
                         torch::optim::Optimizer& optimizer);

}  // namespace fedsmear
