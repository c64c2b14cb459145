// Bit-packed binary 3x3 convolution (stride 1, zero padding 1) by XNOR-popcount.
//
// Activations (NHWC) are binarized and packed per pixel along channels, 64 per uint64 word:
// bit c % 64 of word c / 64 is 1 for +1 and 0 for -1; words = ceil(C / 64); unused bits are 0.
// Weights are packed once at load as [tap (ky*3+kx)][word][out_padded], out_padded a multiple
// of 8, unused bits and padded outputs 0.
//
// Semantics are those of torch::conv2d(sign(x), sign(w), padding=1) with sign(v) = v >= 0 ? +1 :
// -1: the zero padding pads the +-1 tensor with 0, so a tap outside the image contributes
// nothing. Each tap inside contributes C - 2 * popcount(a xor w) (unused bits are 0 on both
// sides and never count); results are exact integers, stored as float.
//
// Kernels: a portable reference kernel (the test oracle), AVX2 (nibble-table popcount) and
// AVX-512 VPOPCNTDQ; BestIsa() picks the best the running CPU supports (cpuid at runtime).
// Thread-safety: all functions are reentrant; PackedConvWeights is immutable once packed and can
// be shared by threads. Buffers belong to the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fedsmear::infer {

enum class Isa { kReference, kAvx2, kAvx512 };

const char* IsaName(Isa isa);
bool IsaSupported(Isa isa);
// kAvx512 (F + BW + VPOPCNTDQ) > kAvx2 (+ FMA) > kReference.
Isa BestIsa();

inline int PackedWords(int channels) { return (channels + 63) / 64; }

// Output pixels [begin, end) of an image, row-major (pixel y * width + x): the part of a layer's
// output one task of a split layer writes (infer/engine.h).
struct PixelRange {
  int begin = 0;
  int end = 0;
};

// Batch-norm affine then sign: bit = (x * scale[c] + shift[c] >= 0). x holds `pixels` rows of
// `channels` floats, `x_stride` floats apart; out receives pixels * PackedWords(channels) words.
// The product and the sum are rounded separately (no fused multiply-add), as LibTorch's
// eval-mode batch norm computes them.
void PackSigns(const float* x, int pixels, int channels, int x_stride, const float* scale,
               const float* shift, uint64_t* out, Isa isa);

struct PackedConvWeights {
  int in_channels = 0;
  int out_channels = 0;
  int out_padded = 0;
  int words = 0;
  std::vector<uint64_t> bits;  // [9][words][out_padded]

  size_t Bytes() const { return bits.size() * sizeof(uint64_t); }
};

// w: [out][in][3][3] (LibTorch's OIHW), binarized with w >= 0 -> +1.
PackedConvWeights PackConvWeights(const float* w, int out_channels, int in_channels);

// act: height * width pixels of w.words packed words. Writes out[(y * width + x) * out_stride + o]
// for o < w.out_channels.
void BinaryConv3x3(const uint64_t* act, int height, int width, const PackedConvWeights& w,
                   float* out, int out_stride, Isa isa);
// The same for output pixels in `range` only; reads the packed pixels within one row and one
// pixel of it ([begin - width - 1, end + width + 1)). Each output is computed exactly as by the
// whole-image call, so any split of the pixels gives the same results.
void BinaryConv3x3(const uint64_t* act, int height, int width, const PackedConvWeights& w,
                   PixelRange range, float* out, int out_stride, Isa isa);

}  // namespace fedsmear::infer
