// Bit-packed kernels against the portable reference, and one binary layer against LibTorch's
// float convolution of the same +-1 tensors with zero padding.
#include "infer/binary_conv.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>
#include <tuple>
#include <vector>

#include "infer/float_ops.h"

namespace fedsmear::infer {
namespace {

std::vector<Isa> OptimizedIsas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (IsaSupported(isa)) isas.push_back(isa);
  }
  return isas;
}

std::vector<float> RandomFloats(size_t n, std::mt19937& rng, float zero_share = 0.0f) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng) < zero_share ? 0.0f : normal(rng);
  return v;
}

// (height, width, in channels, out channels): all-border spatial sizes, odd channel counts.
const std::vector<std::tuple<int, int, int, int>> kShapes = {
    {1, 1, 64, 64}, {2, 2, 65, 64}, {1, 5, 3, 8},    {4, 1, 130, 24}, {3, 7, 63, 72},
    {8, 8, 200, 32}, {5, 6, 1, 8},  {2, 9, 128, 40}, {6, 6, 448, 64}, {7, 3, 2100, 16}};

TEST(BinaryConvTest, OptimizedKernelsEqualReference) {
  std::mt19937 rng(7);
  for (auto [h, w, cin, cout] : kShapes) {
    std::vector<float> x = RandomFloats(static_cast<size_t>(h) * w * cin, rng, 0.05f);
    std::vector<float> wts = RandomFloats(static_cast<size_t>(cout) * cin * 9, rng, 0.05f);
    std::vector<float> scale = RandomFloats(cin, rng), shift = RandomFloats(cin, rng, 0.3f);
    PackedConvWeights pw = PackConvWeights(wts.data(), cout, cin);
    std::vector<uint64_t> ref_bits(static_cast<size_t>(h) * w * pw.words);
    PackSigns(x.data(), h * w, cin, cin, scale.data(), shift.data(), ref_bits.data(),
              Isa::kReference);
    // Output rows wider than the layer, as in a dense block's concatenation buffer.
    const int stride = cout + 5;
    std::vector<float> ref(static_cast<size_t>(h) * w * stride, -7.0f);
    BinaryConv3x3(ref_bits.data(), h, w, pw, ref.data(), stride, Isa::kReference);
    for (Isa isa : OptimizedIsas()) {
      std::vector<uint64_t> bits(ref_bits.size(), ~uint64_t{0});
      PackSigns(x.data(), h * w, cin, cin, scale.data(), shift.data(), bits.data(), isa);
      EXPECT_EQ(bits, ref_bits) << IsaName(isa) << " " << h << "x" << w << "x" << cin;
      std::vector<float> got(ref.size(), -7.0f);
      BinaryConv3x3(ref_bits.data(), h, w, pw, got.data(), stride, isa);
      EXPECT_EQ(got, ref) << IsaName(isa) << " " << h << "x" << w << "x" << cin << "->" << cout;
    }
  }
}

TEST(BinaryConvTest, ReferenceEqualsTorchConvOfSignsWithZeroPadding) {
  torch::manual_seed(3);
  std::mt19937 rng(11);
  for (auto [h, w, cin, cout] : kShapes) {
    if (cin > 500) continue;  // keep the float conv small
    torch::Tensor x = torch::randn({1, cin, h, w});
    torch::Tensor wt = torch::randn({cout, cin, 3, 3});
    auto sign = [](const torch::Tensor& t) {
      return torch::where(t.ge(0), 1.0, -1.0).to(t.dtype());
    };
    torch::Tensor expected =
        torch::conv2d(sign(x), sign(wt), {}, 1, 1).permute({0, 2, 3, 1}).contiguous();
    torch::Tensor nhwc = x.permute({0, 2, 3, 1}).contiguous();
    std::vector<float> ones(cin, 1.0f), zeros(cin, 0.0f);
    PackedConvWeights pw = PackConvWeights(wt.contiguous().data_ptr<float>(), cout, cin);
    std::vector<uint64_t> bits(static_cast<size_t>(h) * w * pw.words);
    for (Isa isa : {Isa::kReference, BestIsa()}) {
      PackSigns(nhwc.data_ptr<float>(), h * w, cin, cin, ones.data(), zeros.data(), bits.data(),
                isa);
      std::vector<float> got(static_cast<size_t>(h) * w * cout);
      BinaryConv3x3(bits.data(), h, w, pw, got.data(), cout, isa);
      std::vector<float> want(expected.data_ptr<float>(), expected.data_ptr<float>() + got.size());
      EXPECT_EQ(got, want) << IsaName(isa) << " " << h << "x" << w << "x" << cin << "->" << cout;
    }
  }
}

TEST(BinaryConvTest, BatchNormSignMatchesTorchEvalBatchNorm) {
  torch::manual_seed(5);
  const int c = 96;
  torch::nn::BatchNorm2d bn{torch::nn::BatchNorm2dOptions(c)};
  {
    torch::NoGradGuard g;
    bn->weight.normal_(0, 1);  // some negative scales
    bn->bias.normal_(0, 0.5);
    bn->running_mean.normal_(0, 1);
    bn->running_var.uniform_(0.2, 3);
  }
  bn->eval();
  torch::NoGradGuard g;
  torch::Tensor x = torch::randn({1, c, 16, 16});
  torch::Tensor y = bn->forward(x).ge(0).permute({0, 2, 3, 1}).contiguous();
  BnAffine affine = MakeBnAffine(bn->weight.data_ptr<float>(), bn->bias.data_ptr<float>(),
                                 bn->running_mean.data_ptr<float>(),
                                 bn->running_var.data_ptr<float>(), c);
  torch::Tensor nhwc = x.permute({0, 2, 3, 1}).contiguous();
  std::vector<uint64_t> bits(16 * 16 * PackedWords(c));
  PackSigns(nhwc.data_ptr<float>(), 16 * 16, c, c, affine.scale.data(), affine.shift.data(),
            bits.data(), BestIsa());
  int mismatches = 0;
  for (int p = 0; p < 16 * 16; ++p) {
    for (int ch = 0; ch < c; ++ch) {
      const bool bit = (bits[p * PackedWords(c) + ch / 64] >> (ch % 64)) & 1;
      mismatches += bit != y[0][p / 16][p % 16][ch].item<bool>();
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(FloatOpsTest, GemmKernelsAgree) {
  std::mt19937 rng(2);
  const std::vector<std::tuple<int, int, int>> shapes = {{1, 5, 3}, {7, 147, 64}, {33, 448, 160}, {13, 40, 48}};
  for (auto [m, k, n] : shapes) {
    std::vector<float> a = RandomFloats(static_cast<size_t>(m) * k, rng);
    std::vector<float> w = RandomFloats(static_cast<size_t>(n) * k, rng);
    PackedMatrix b = PackMatrix(w.data(), n, k);
    std::vector<float> ref(static_cast<size_t>(m) * b.n_padded), got(ref.size());
    Gemm(a.data(), m, k, b, ref.data(), b.n_padded, Isa::kReference);
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j) {
        double exact = 0;
        for (int kk = 0; kk < k; ++kk) exact += double(a[i * k + kk]) * w[j * k + kk];
        EXPECT_NEAR(ref[i * b.n_padded + j], exact, 1e-4 * (1 + std::fabs(exact)));
      }
    }
    for (Isa isa : OptimizedIsas()) {
      Gemm(a.data(), m, k, b, got.data(), b.n_padded, isa);
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_NEAR(got[i], ref[i], 1e-4 * (1 + std::fabs(ref[i]))) << IsaName(isa);
      }
    }
  }
}

}  // namespace
}  // namespace fedsmear::infer
