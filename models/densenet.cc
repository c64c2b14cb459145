#include "models/densenet.h"

#include <c10/util/Exception.h>

#include <cmath>

namespace fedsmear {
namespace {

namespace nn = torch::nn;

class SteSignFn : public torch::autograd::Function<SteSignFn> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x,
                               double clip) {
    ctx->save_for_backward({x});
    ctx->saved_data["clip"] = clip;
    return torch::where(x.ge(0), 1.0, -1.0).to(x.dtype());
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    torch::Tensor x = ctx->get_saved_variables()[0];
    double clip = ctx->saved_data["clip"].toDouble();
    return {grad[0] * x.abs().le(clip).to(grad[0].dtype()), torch::Tensor()};
  }
};

nn::BatchNorm2d MakeBn(int channels, double momentum) {
  return nn::BatchNorm2d(nn::BatchNorm2dOptions(channels).eps(1e-5).momentum(momentum));
}

nn::Conv2d MakeConv(int in, int out, int kernel, int stride, int padding) {
  return nn::Conv2d(
      nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

// Keras initialisers, as larq-zoo uses them.
void GlorotNormal(torch::Tensor& w) {
  auto [fan_in, fan_out] = torch::nn::init::_calculate_fan_in_and_fan_out(w);
  torch::NoGradGuard g;
  w.normal_(0, std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)));
}
void GlorotUniform(torch::Tensor& w) {
  auto [fan_in, fan_out] = torch::nn::init::_calculate_fan_in_and_fan_out(w);
  double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  torch::NoGradGuard g;
  w.uniform_(-limit, limit);
}
void HeNormal(torch::Tensor& w) {
  auto [fan_in, fan_out] = torch::nn::init::_calculate_fan_in_and_fan_out(w);
  (void)fan_out;
  torch::NoGradGuard g;
  w.normal_(0, std::sqrt(2.0 / static_cast<double>(fan_in)));
}

}  // namespace

torch::Tensor SteSign(const torch::Tensor& x, double clip) { return SteSignFn::apply(x, clip); }

DenseNetImpl::DenseNetImpl(const ArchSpec& arch, int classes, int input_size, double bn_momentum)
    : arch_(arch), classes_(classes), input_size_(input_size) {
  auto stem = register_module("stem", std::make_shared<nn::Module>());
  int channels = arch.initial_filters;
  if (SmallInputStem(input_size)) {
    stem_conv_ = stem->register_module("conv", MakeConv(3, channels, 3, 1, 1));
  } else {
    stem_conv_ = stem->register_module("conv", MakeConv(3, channels, 7, 2, 3));
    stem_bn_ = stem->register_module("bn", MakeBn(channels, bn_momentum));
  }
  HeNormal(stem_conv_->weight);
  for (size_t b = 0; b < arch.layers.size(); ++b) {
    const std::string block_name = "block" + std::to_string(b + 1);
    auto block = register_module(block_name, std::make_shared<nn::Module>());
    blocks_.emplace_back();
    for (int i = 0; i < arch.layers[b]; ++i) {
      const std::string layer_name = "layer" + std::to_string(i + 1);
      auto layer = block->register_module(layer_name, std::make_shared<nn::Module>());
      DenseLayer d;
      d.bn = layer->register_module("bn", MakeBn(channels, bn_momentum));
      d.conv = layer->register_module("conv", MakeConv(channels, arch.growth, 3, 1, 1));
      GlorotNormal(d.conv->weight);
      if (arch.binary) binary_names_.insert(block_name + "." + layer_name + ".conv.weight");
      blocks_.back().push_back(d);
      channels += arch.growth;
    }
    if (b + 1 < arch.layers.size()) {
      auto trans = register_module("trans" + std::to_string(b + 1), std::make_shared<nn::Module>());
      int out = TransitionChannels(channels, arch.reductions[b]);
      Transition t;
      t.bn = trans->register_module("bn", MakeBn(channels, bn_momentum));
      t.conv = trans->register_module("conv", MakeConv(channels, out, 1, 1, 0));
      GlorotUniform(t.conv->weight);
      transitions_.push_back(t);
      channels = out;
    }
  }
  auto head = register_module("head", std::make_shared<nn::Module>());
  head_bn_ = head->register_module("bn", MakeBn(channels, bn_momentum));
  head_fc_ = head->register_module("fc", nn::Linear(channels, classes));
  GlorotUniform(head_fc_->weight);
  torch::NoGradGuard g;
  head_fc_->bias.zero_();
}

torch::Tensor DenseNetImpl::forward(torch::Tensor x) {
  x = stem_conv_->forward(x);
  if (stem_bn_) {
    x = torch::relu(stem_bn_->forward(x));
    x = torch::max_pool2d(x, 3, 2, 1);
  }
  for (size_t b = 0; b < blocks_.size(); ++b) {
    for (DenseLayer& d : blocks_[b]) {
      torch::Tensor y = d.bn->forward(x);
      if (arch_.binary) {
        y = torch::conv2d(SteSign(y), SteSign(d.conv->weight), {}, 1, 1);
      } else {
        y = d.conv->forward(torch::relu(y));
      }
      x = torch::cat({x, y}, 1);
    }
    if (b < transitions_.size()) {
      Transition& t = transitions_[b];
      x = torch::relu(torch::max_pool2d(t.bn->forward(x), 2, 2));
      x = t.conv->forward(x);
    }
  }
  x = torch::relu(head_bn_->forward(x));
  x = x.mean({2, 3});
  return head_fc_->forward(x);
}

void DenseNetImpl::ClipLatentWeights(double clip) {
  if (!arch_.binary) return;
  torch::NoGradGuard g;
  for (auto& block : blocks_) {
    for (DenseLayer& d : block) d.conv->weight.clamp_(-clip, clip);
  }
}

void DenseNetImpl::SetBatchNormMomentum(double momentum) {
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* bn = m->as<nn::BatchNorm2dImpl>()) bn->options.momentum(momentum);
  }
}

Result<DenseNet> MakeModel(const std::string& arch_name, int classes, int input_size,
                           double bn_momentum) {
  ASSIGN_OR_RETURN(ArchSpec arch, FindArch(arch_name));
  if (classes < 2) return InvalidArgument("a classifier needs at least 2 classes");
  int min_side = SmallInputStem(input_size) ? 1 : 4;
  for (size_t i = 1; i < arch.layers.size(); ++i) min_side *= 2;
  if (input_size < 8 || input_size < min_side) {
    return InvalidArgument("input size " + std::to_string(input_size) + " is too small for " +
                           arch_name + " (at least " + std::to_string(std::max(8, min_side)) +
                           " px)");
  }
  return DenseNet(arch, classes, input_size, bn_momentum);
}

std::pair<int64_t, int64_t> CountParameters(DenseNet& model) {
  int64_t all = 0, binary = 0;
  for (const auto& p : model->named_parameters()) {
    if (!p.value().requires_grad()) continue;
    all += p.value().numel();
    if (model->IsBinaryParam(p.key())) binary += p.value().numel();
  }
  return {all, binary};
}

}  // namespace fedsmear
