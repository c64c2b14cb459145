#include "infer/binary_conv.h"

#include "infer/kernels_x86.h"

namespace fedsmear::infer {
namespace {

void PackSignsReference(const float* x, int pixels, int channels, int x_stride,
                        const float* scale, const float* shift, uint64_t* out) {
  const int words = PackedWords(channels);
  for (int p = 0; p < pixels; ++p) {
    const float* row = x + static_cast<size_t>(p) * x_stride;
    uint64_t* dst = out + static_cast<size_t>(p) * words;
    for (int k = 0; k < words; ++k) dst[k] = 0;
    for (int c = 0; c < channels; ++c) {
      float prod = row[c] * scale[c];
      float y = prod + shift[c];
      if (y >= 0.0f) dst[c >> 6] |= uint64_t{1} << (c & 63);
    }
  }
}

void BinaryConv3x3Reference(const uint64_t* act, int height, int width, const PackedConvWeights& w,
                            PixelRange range, float* out, int out_stride) {
  const int words = w.words;
  for (int p = range.begin; p < range.end; ++p) {
    const int y = p / width, x = p % width;
    {
      float* dst = out + (static_cast<size_t>(y) * width + x) * out_stride;
      for (int o = 0; o < w.out_channels; ++o) {
        int64_t mismatches = 0;
        int64_t taps = 0;
        for (int ky = 0; ky < 3; ++ky) {
          const int iy = y + ky - 1;
          if (iy < 0 || iy >= height) continue;
          for (int kx = 0; kx < 3; ++kx) {
            const int ix = x + kx - 1;
            if (ix < 0 || ix >= width) continue;
            ++taps;
            const uint64_t* a = act + (static_cast<size_t>(iy) * width + ix) * words;
            const uint64_t* wt =
                w.bits.data() + static_cast<size_t>(ky * 3 + kx) * words * w.out_padded + o;
            for (int k = 0; k < words; ++k) {
              mismatches += __builtin_popcountll(a[k] ^ wt[static_cast<size_t>(k) * w.out_padded]);
            }
          }
        }
        dst[o] = static_cast<float>(taps * w.in_channels - 2 * mismatches);
      }
    }
  }
}

}  // namespace

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kReference: return "reference";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512-vpopcntdq";
  }
  return "?";
}

bool IsaSupported(Isa isa) {
  switch (isa) {
    case Isa::kReference: return true;
    case Isa::kAvx2: return x86::HasAvx2();
    case Isa::kAvx512: return x86::HasAvx512();
  }
  return false;
}

Isa BestIsa() {
  if (IsaSupported(Isa::kAvx512)) return Isa::kAvx512;
  if (IsaSupported(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kReference;
}

void PackSigns(const float* x, int pixels, int channels, int x_stride, const float* scale,
               const float* shift, uint64_t* out, Isa isa) {
  if (isa == Isa::kAvx512) {
    x86::PackSignsAvx512(x, pixels, channels, x_stride, scale, shift, out);
  } else if (isa == Isa::kAvx2) {
    x86::PackSignsAvx2(x, pixels, channels, x_stride, scale, shift, out);
  } else {
    PackSignsReference(x, pixels, channels, x_stride, scale, shift, out);
  }
}

PackedConvWeights PackConvWeights(const float* w, int out_channels, int in_channels) {
  PackedConvWeights p;
  p.in_channels = in_channels;
  p.out_channels = out_channels;
  p.out_padded = (out_channels + 7) / 8 * 8;
  p.words = PackedWords(in_channels);
  p.bits.assign(static_cast<size_t>(9) * p.words * p.out_padded, 0);
  for (int o = 0; o < out_channels; ++o) {
    for (int c = 0; c < in_channels; ++c) {
      for (int tap = 0; tap < 9; ++tap) {
        const float v = w[(static_cast<size_t>(o) * in_channels + c) * 9 + tap];
        if (v >= 0.0f) {
          p.bits[(static_cast<size_t>(tap) * p.words + (c >> 6)) * p.out_padded + o] |=
              uint64_t{1} << (c & 63);
        }
      }
    }
  }
  return p;
}

void BinaryConv3x3(const uint64_t* act, int height, int width, const PackedConvWeights& w,
                   float* out, int out_stride, Isa isa) {
  BinaryConv3x3(act, height, width, w, PixelRange{0, height * width}, out, out_stride, isa);
}

void BinaryConv3x3(const uint64_t* act, int height, int width, const PackedConvWeights& w,
                   PixelRange range, float* out, int out_stride, Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      x86::BinaryConv3x3Avx512(act, height, width, w, range.begin, range.end, out, out_stride);
      return;
    case Isa::kAvx2:
      x86::BinaryConv3x3Avx2(act, height, width, w, range.begin, range.end, out, out_stride);
      return;
    case Isa::kReference:
      BinaryConv3x3Reference(act, height, width, w, range, out, out_stride);
      return;
  }
}

}  // namespace fedsmear::infer
