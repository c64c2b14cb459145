// Training-mode batch-norm statistics with the binary engine (infer/engine.h): the batch runs
// layer by layer, every BN layer normalising with the batch's own mean and biased variance, as
// LibTorch's forward in training mode does, and each layer's statistics are kept.
//
// A dense block's feature map only grows by concatenation, so each channel's statistics are
// computed once, when the stem, a transition or a binary convolution writes it; every later BN
// of the block reads them (a binary convolution writes integers, summed exactly in double).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "infer/engine_impl.h"

namespace fedsmear::infer {
namespace {

constexpr float kBnEps = 1e-5f;  // models/densenet.cc's BatchNorm2d

// Per-channel batch mean and biased variance of channels [first, first + count) of every
// image's NHWC map (`pixels` rows, `stride` floats apart), appended to mean/var.
void ChannelStats(const std::vector<std::vector<float>>& maps, int pixels, int first, int count,
                  int stride, std::vector<double>* mean, std::vector<double>* var) {
  const double total = static_cast<double>(maps.size()) * pixels;
  std::vector<double> sum(count, 0.0), sq(count, 0.0);
  for (const std::vector<float>& m : maps) {
    for (int p = 0; p < pixels; ++p) {
      const float* row = m.data() + static_cast<size_t>(p) * stride + first;
      for (int c = 0; c < count; ++c) sum[c] += row[c];
    }
  }
  for (int c = 0; c < count; ++c) sum[c] /= total;
  for (const std::vector<float>& m : maps) {
    for (int p = 0; p < pixels; ++p) {
      const float* row = m.data() + static_cast<size_t>(p) * stride + first;
      for (int c = 0; c < count; ++c) {
        const double d = row[c] - sum[c];
        sq[c] += d * d;
      }
    }
  }
  for (int c = 0; c < count; ++c) {
    mean->push_back(sum[c]);
    var->push_back(sq[c] / total);
  }
}

// The training-mode affine of a BN layer over channels [0, channels): the batch's statistics.
BnAffine TrainAffine(const BnParams& p, const std::vector<double>& mean,
                     const std::vector<double>& var, int channels) {
  std::vector<float> m(mean.begin(), mean.begin() + channels);
  std::vector<float> v(var.begin(), var.begin() + channels);
  return MakeBnAffine(p.gamma.data(), p.beta.data(), m.data(), v.data(), channels, kBnEps);
}

// Records a layer's statistics: the mean and the unbiased variance over `values` per channel.
void Record(BnStatistics* out, const std::string& layer, const std::vector<double>& mean,
            const std::vector<double>& var, int channels, double values) {
  const double unbias = values > 1 ? values / (values - 1) : 1.0;
  std::vector<double> m(mean.begin(), mean.begin() + channels), v(channels);
  for (int c = 0; c < channels; ++c) v[c] = var[c] * unbias;
  out->Add(layer, m, v);
}

}  // namespace

void BinaryEngine::Impl::TrainModeStatistics(const float* images, int n,
                                             BnStatistics* out) const {
  const int s = meta.input_size;
  ThreadPool* workers = pool.get();  // images split over the engine's pool
  const size_t image_size = static_cast<size_t>(3) * s * s;
  std::vector<std::vector<float>> x(n);
  int h = ConvOut(s, stem_kernel, stem_stride, stem_pad);
  const int k_cols = stem_kernel * stem_kernel * 3;
  const Block& first = blocks.front();
  std::vector<std::vector<float>> stem(large_stem ? n : 0);
  ForEachTask(workers, n, [&](int i, int) {
    std::vector<float> hwc(image_size), cols(static_cast<size_t>(h) * h * k_cols);
    const float* chw = images + i * image_size;
    for (int c = 0; c < 3; ++c) {
      for (int p = 0; p < s * s; ++p) hwc[static_cast<size_t>(p) * 3 + c] = chw[c * s * s + p];
    }
    Im2col(hwc.data(), s, s, 3, stem_kernel, stem_stride, stem_pad, cols.data());
    if (large_stem) {
      stem[i].resize(static_cast<size_t>(h) * h * stem_conv.n_padded);
      Gemm(cols.data(), h * h, k_cols, stem_conv, stem[i].data(), stem_conv.n_padded, isa);
    } else {
      x[i].resize(static_cast<size_t>(h) * h * first.total_channels);
      Gemm(cols.data(), h * h, k_cols, stem_conv, x[i].data(), first.total_channels, isa);
    }
  });
  if (large_stem) {
    std::vector<double> mean, var;
    ChannelStats(stem, h * h, 0, stem_channels, stem_conv.n_padded, &mean, &var);
    Record(out, "stem.bn", mean, var, stem_channels, static_cast<double>(n) * h * h);
    const BnAffine bn = TrainAffine(stem_params, mean, var, stem_channels);
    const int pooled = ConvOut(h, 3, 2, 1);
    ForEachTask(workers, n, [&](int i, int) {
      BnRelu(stem[i].data(), h * h, stem_channels, stem_conv.n_padded, bn);
      x[i].resize(static_cast<size_t>(pooled) * pooled * first.total_channels);
      MaxPool(stem[i].data(), h, h, stem_channels, stem_conv.n_padded, 3, 2, 1, nullptr, false,
              x[i].data(), first.total_channels);
    });
    h = pooled;
  }

  int channels = stem_channels;
  for (size_t b = 0; b < blocks.size(); ++b) {
    const Block& block = blocks[b];
    const int pixels = h * h;
    const int stride = block.total_channels;
    const double values = static_cast<double>(n) * pixels;
    std::vector<double> mean, var;  // per channel of the block's map, filled as it grows
    ChannelStats(x, pixels, 0, channels, stride, &mean, &var);
    for (size_t l = 0; l < block.layers.size(); ++l) {
      const DenseLayer& layer = block.layers[l];
      const std::string name = "block" + std::to_string(b + 1) + ".layer" + std::to_string(l + 1);
      Record(out, name + ".bn", mean, var, channels, values);
      const BnAffine bn = TrainAffine(layer.params, mean, var, channels);
      ForEachTask(workers, n, [&](int i, int) {
        std::vector<uint64_t> bits(static_cast<size_t>(pixels) * layer.conv.words);
        PackSigns(x[i].data(), pixels, channels, stride, bn.scale.data(), bn.shift.data(),
                  bits.data(), isa);
        BinaryConv3x3(bits.data(), h, h, layer.conv, x[i].data() + channels, stride, isa);
      });
      ChannelStats(x, pixels, channels, layer.conv.out_channels, stride, &mean, &var);
      channels += layer.conv.out_channels;
    }
    if (!block.has_transition) {
      Record(out, "head.bn", mean, var, channels, values);
      break;
    }
    Record(out, "trans" + std::to_string(b + 1) + ".bn", mean, var, channels, values);
    const BnAffine bn = TrainAffine(block.trans_params, mean, var, channels);
    const int ph = ConvOut(h, 2, 2, 0);
    const Block& next = blocks[b + 1];
    ForEachTask(workers, n, [&](int i, int) {
      std::vector<float> pooled(static_cast<size_t>(ph) * ph * channels);
      MaxPool(x[i].data(), h, h, channels, stride, 2, 2, 0, &bn, true, pooled.data(), channels);
      x[i].assign(static_cast<size_t>(ph) * ph * next.total_channels, 0.0f);
      Gemm(pooled.data(), ph * ph, channels, block.trans_conv, x[i].data(), next.total_channels,
           isa);
    });
    channels = block.trans_conv.n;
    h = ph;
  }
}

Status BinaryEngine::AccumulateBatchNormStatistics(const float* images, int n,
                                                   BnStatistics* stats) const {
  if (n < 2) {
    return InvalidArgument("batch-norm statistics need a batch of at least 2 images, got " +
                           std::to_string(n));
  }
  impl_->TrainModeStatistics(images, n, stats);
  stats->EndBatch();
  return Status::Ok();
}

void BnStatistics::Add(const std::string& layer, const std::vector<double>& mean,
                       const std::vector<double>& unbiased_var) {
  Layer& l = layers_[layer];
  const double k = static_cast<double>(batches_ + 1);  // LibTorch: factor 1 / batches tracked
  if (l.mean.size() != mean.size()) {
    l.mean.assign(mean.size(), 0.0);
    l.var.assign(mean.size(), 1.0);
  }
  for (size_t c = 0; c < mean.size(); ++c) {
    l.mean[c] += (mean[c] - l.mean[c]) / k;
    l.var[c] += (unbiased_var[c] - l.var[c]) / k;
  }
}

Status BnStatistics::WriteInto(ModelState* state) const {
  if (batches_ == 0) return InvalidArgument("no batch-norm statistics were gathered");
  for (const auto& [layer, l] : layers_) {
    for (const auto& [suffix, values] :
         {std::pair<const char*, const std::vector<double>*>{".running_mean", &l.mean},
          {".running_var", &l.var}}) {
      NamedTensor* t = state->FindMutable(layer + suffix);
      if (t == nullptr || t->values.size() != values->size()) {
        return InvalidArgument("model has no tensor " + layer + suffix + " of " +
                               std::to_string(values->size()) + " values");
      }
      for (size_t c = 0; c < values->size(); ++c) t->values[c] = static_cast<float>((*values)[c]);
    }
  }
  return Status::Ok();
}

}  // namespace fedsmear::infer
