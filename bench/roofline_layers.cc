#include "bench/roofline_layers.h"

#include <algorithm>
#include <cmath>

#include "models/arch.h"
#include "tests/infer/random_state.h"

namespace fedsmear::bench {
namespace {

// Bit MACs of a 3x3 same conv on an h x h map: taps inside the image per axis 3h - 2.
double ConvOps(int h, int in, int out) {
  const double taps = h == 1 ? 1.0 : (3.0 * h - 2) * (3.0 * h - 2);
  return taps * in * out;
}

std::vector<float> Random(size_t n, infer::SplitMix& rng, float lo = -1, float hi = 1) {
  std::vector<float> v(n);
  for (float& x : v) x = rng.Uniform(lo, hi);
  return v;
}

}  // namespace

Result<std::unique_ptr<LayerSet>> LayerSet::Make(const std::string& arch_name, int input_size,
                                                 infer::Isa isa) {
  using namespace infer;  // NOLINT: kernels
  ASSIGN_OR_RETURN(ArchSpec arch, FindArch(arch_name));
  if (!arch.binary) return InvalidArgument(arch_name + " is not binarized");
  std::unique_ptr<LayerSet> set(new LayerSet());
  LayerSet* t = set.get();
  SplitMix rng(7);
  auto bn = [&](int c) {
    std::vector<float> g = Random(c, rng, -0.5f, 1.5f), b = Random(c, rng, -0.5f, 0.5f),
                       m = Random(c, rng, -0.3f, 0.3f), v = Random(c, rng, 0.5f, 2.0f);
    t->bns_.push_back(MakeBnAffine(g.data(), b.data(), m.data(), v.data(), c));
    return t->bns_.size() - 1;
  };
  const int s = input_size;
  const bool large = !SmallInputStem(s);
  const int k = large ? 7 : 3, stride = large ? 2 : 1, pad = large ? 3 : 1;
  const int c0 = arch.initial_filters;
  int h = ConvOut(s, k, stride, pad);
  t->input_ = Random(static_cast<size_t>(s) * s * 3, rng, -2, 2);
  t->cols_.resize(static_cast<size_t>(h) * h * k * k * 3);

  // Block sizes, for the buffers.
  std::vector<int> hs, totals, ins;
  {
    int hb = large ? ConvOut(h, 3, 2, 1) : h, c = c0;
    size_t map = 0, bits = 0;
    for (size_t b = 0; b < arch.layers.size(); ++b) {
      hs.push_back(hb), ins.push_back(c);
      const int total = c + arch.layers[b] * arch.growth;
      totals.push_back(total);
      map = std::max(map, static_cast<size_t>(hb) * hb * total);
      bits = std::max(bits, static_cast<size_t>(hb) * hb * PackedWords(total));
      if (b + 1 < arch.layers.size()) c = TransitionChannels(total, arch.reductions[b]);
      hb = ConvOut(hb, 2, 2, 0);
    }
    for (auto& x : t->x_) x = Random(map, rng);
    t->bits_.resize(bits);
  }
  // Packing of block b's layer l input (bn index) from map x (stride), `channels` channels.
  auto pack = [t, isa](int x, int pixels, int channels, int stride, size_t bn_index) {
    const BnAffine& a = t->bns_[bn_index];
    PackSigns(t->x_[x].data(), pixels, channels, stride, a.scale.data(), a.shift.data(),
              t->bits_.data(), isa);
  };
  // BN indices of each block's layers, made first so the lambdas can name the next one.
  std::vector<std::vector<size_t>> layer_bn(arch.layers.size());
  for (size_t b = 0; b < arch.layers.size(); ++b) {
    for (int l = 0; l < arch.layers[b]; ++l) layer_bn[b].push_back(bn(ins[b] + l * arch.growth));
  }

  // Stem.
  std::vector<float> w = Random(static_cast<size_t>(c0) * 3 * k * k, rng);
  t->mats_.push_back(PackConvMatrix(w.data(), c0, 3, k));
  const double stem_flops = 2.0 * h * h * k * k * 3 * c0;
  if (large) {
    const size_t sbn = bn(c0);
    t->stem_out_.resize(static_cast<size_t>(h) * h * t->mats_[0].n_padded);
    t->layers_.push_back(
        {"stem", LayerKind::kFloat, stem_flops, [t, isa, s, k, stride, pad, h, c0, sbn] {
           const PackedMatrix& m = t->mats_[0];
           Im2col(t->input_.data(), s, s, 3, k, stride, pad, t->cols_.data());
           Gemm(t->cols_.data(), h * h, k * k * 3, m, t->stem_out_.data(), m.n_padded, isa);
           BnRelu(t->stem_out_.data(), h * h, c0, m.n_padded, t->bns_[sbn]);
         }});
    const int ph = hs[0], total = totals[0];
    const size_t first = layer_bn[0][0];
    t->layers_.push_back({"stem.pool", LayerKind::kOther, 0, [t, h, ph, c0, total, first, pack] {
                            MaxPool(t->stem_out_.data(), h, h, c0, t->mats_[0].n_padded, 3, 2, 1,
                                    nullptr, false, t->x_[0].data(), total);
                            pack(0, ph * ph, c0, total, first);
                          }});
  } else {
    const int total = totals[0];
    const size_t first = layer_bn[0][0];
    t->layers_.push_back({"stem", LayerKind::kFloat, stem_flops,
                          [t, isa, s, k, stride, pad, h, c0, total, first, pack] {
                            Im2col(t->input_.data(), s, s, 3, k, stride, pad, t->cols_.data());
                            Gemm(t->cols_.data(), h * h, k * k * 3, t->mats_[0], t->x_[0].data(),
                                 total, isa);
                            pack(0, h * h, c0, total, first);
                          }});
  }

  // Dense blocks and transitions.
  for (size_t b = 0; b < arch.layers.size(); ++b) {
    const int hb = hs[b], total = totals[b], xi = static_cast<int>(b % 2);
    int c = ins[b];
    for (int l = 0; l < arch.layers[b]; ++l) {
      w = Random(static_cast<size_t>(arch.growth) * c * 9, rng);
      t->convs_.push_back(PackConvWeights(w.data(), arch.growth, c));
      const size_t ci = t->convs_.size() - 1;
      const bool has_next = l + 1 < arch.layers[b];
      const size_t next_bn = has_next ? layer_bn[b][l + 1] : 0;
      const std::string name = "block" + std::to_string(b + 1) + ".layer" + std::to_string(l + 1);
      t->layers_.push_back({name, LayerKind::kBinary, ConvOps(hb, c, arch.growth),
                            [t, isa, hb, c, total, xi, ci, has_next, next_bn, pack] {
                              const PackedConvWeights& conv = t->convs_[ci];
                              BinaryConv3x3(t->bits_.data(), hb, hb, conv, t->x_[xi].data() + c,
                                            total, isa);
                              if (has_next)
                                pack(xi, hb * hb, c + conv.out_channels, total, next_bn);
                            }});
      c += arch.growth;
    }
    const size_t block_bn = bn(total);
    if (b + 1 == arch.layers.size()) {
      w = Random(static_cast<size_t>(8) * total, rng);
      t->mats_.push_back(PackMatrix(w.data(), 8, total));
      const size_t mi = t->mats_.size() - 1;
      t->layers_.push_back(
          {"head", LayerKind::kFloat, 2.0 * total * 8, [t, isa, hb, total, xi, mi, block_bn] {
             const int pixels = hb * hb;
             float* x = t->x_[xi].data();
             BnRelu(x, pixels, total, total, t->bns_[block_bn]);
             t->head_.assign(static_cast<size_t>(total) + t->mats_[mi].n_padded, 0.0f);
             for (int ch = 0; ch < total; ++ch) {
               double sum = 0;
               for (int p = 0; p < pixels; ++p) sum += x[static_cast<size_t>(p) * total + ch];
               t->head_[ch] = static_cast<float>(sum / pixels);
             }
             Gemm(t->head_.data(), 1, total, t->mats_[mi], t->head_.data() + total,
                  t->mats_[mi].n_padded, isa);
           }});
      break;
    }
    const int out = ins[b + 1], ph = hs[b + 1], next_total = totals[b + 1];
    w = Random(static_cast<size_t>(out) * total, rng);
    t->mats_.push_back(PackMatrix(w.data(), out, total));
    const size_t mi = t->mats_.size() - 1, next_first = layer_bn[b + 1][0];
    t->layers_.push_back(
        {"trans" + std::to_string(b + 1), LayerKind::kFloat, 2.0 * ph * ph * total * out,
         [t, isa, hb, ph, total, out, next_total, xi, mi, block_bn, next_first, pack] {
           t->pooled_.resize(static_cast<size_t>(ph) * ph * total);
           MaxPool(t->x_[xi].data(), hb, hb, total, total, 2, 2, 0, &t->bns_[block_bn], true,
                   t->pooled_.data(), total);
           Gemm(t->pooled_.data(), ph * ph, total, t->mats_[mi], t->x_[1 - xi].data(), next_total,
                isa);
           pack(1 - xi, ph * ph, out, next_total, next_first);
         }});
  }
  return set;
}

}  // namespace fedsmear::bench
