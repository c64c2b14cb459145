#include "infer/float_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "infer/kernels_x86.h"

namespace fedsmear::infer {
namespace {

void GemmReference(const float* a, int m, int k, int lda, const float* b, int n_padded, float* c,
                   int ldc) {
  for (int i = 0; i < m; ++i) {
    float* dst = c + static_cast<size_t>(i) * ldc;
    std::fill(dst, dst + n_padded, 0.0f);
    const float* arow = a + static_cast<size_t>(i) * lda;
    for (int kk = 0; kk < k; ++kk) {
      const float av = arow[kk];
      const float* brow = b + static_cast<size_t>(kk) * n_padded;
      for (int j = 0; j < n_padded; ++j) dst[j] += av * brow[j];
    }
  }
}

}  // namespace

BnAffine MakeBnAffine(const float* gamma, const float* beta, const float* mean, const float* var,
                      int channels, float eps) {
  BnAffine bn;
  bn.scale.resize(channels);
  bn.shift.resize(channels);
  for (int c = 0; c < channels; ++c) {
    const float invstd = 1.0f / std::sqrt(var[c] + eps);
    bn.scale[c] = invstd * gamma[c];
    const float prod = mean[c] * bn.scale[c];
    bn.shift[c] = beta[c] - prod;
  }
  return bn;
}

PackedMatrix PackMatrix(const float* w, int n, int k) {
  PackedMatrix p;
  p.k = k;
  p.n = n;
  p.n_padded = (n + 15) / 16 * 16;
  p.values.assign(static_cast<size_t>(k) * p.n_padded, 0.0f);
  for (int o = 0; o < n; ++o) {
    for (int i = 0; i < k; ++i) {
      p.values[static_cast<size_t>(i) * p.n_padded + o] = w[static_cast<size_t>(o) * k + i];
    }
  }
  return p;
}

PackedMatrix PackConvMatrix(const float* w, int out, int in, int kernel) {
  // [out][in][ky][kx] -> [out][ky][kx][in], then as a matrix.
  std::vector<float> reordered(static_cast<size_t>(out) * in * kernel * kernel);
  for (int o = 0; o < out; ++o) {
    for (int c = 0; c < in; ++c) {
      for (int t = 0; t < kernel * kernel; ++t) {
        reordered[(static_cast<size_t>(o) * kernel * kernel + t) * in + c] =
            w[(static_cast<size_t>(o) * in + c) * kernel * kernel + t];
      }
    }
  }
  return PackMatrix(reordered.data(), out, in * kernel * kernel);
}

void Gemm(const float* a, int m, int lda, const PackedMatrix& b, float* c, int ldc, Isa isa) {
  if (isa == Isa::kAvx512) {
    x86::GemmAvx512(a, m, b.k, lda, b.values.data(), b.n_padded, c, ldc);
  } else if (isa == Isa::kAvx2) {
    x86::GemmAvx2(a, m, b.k, lda, b.values.data(), b.n_padded, c, ldc);
  } else {
    GemmReference(a, m, b.k, lda, b.values.data(), b.n_padded, c, ldc);
  }
}

void Im2col(const float* x, int h, int w, int c, int kernel, int stride, int pad, float* out) {
  const int ho = ConvOut(h, kernel, stride, pad), wo = ConvOut(w, kernel, stride, pad);
  Im2col(x, h, w, c, kernel, stride, pad, PixelRange{0, ho * wo}, out);
}

void Im2col(const float* x, int h, int w, int c, int kernel, int stride, int pad, PixelRange range,
            float* out) {
  const int wo = ConvOut(w, kernel, stride, pad);
  for (int p = range.begin; p < range.end; ++p) {
    const int oy = p / wo, ox = p % wo;
    {
      float* row = out + (static_cast<size_t>(oy) * wo + ox) * kernel * kernel * c;
      for (int ky = 0; ky < kernel; ++ky) {
        const int iy = oy * stride + ky - pad;
        float* dst = row + static_cast<size_t>(ky) * kernel * c;
        if (iy < 0 || iy >= h) {
          std::fill(dst, dst + kernel * c, 0.0f);
          continue;
        }
        // The taps of one kernel row that fall inside the image are contiguous in x.
        const int kx0 = std::max(0, pad - ox * stride);
        const int kx1 = std::min(kernel, w + pad - ox * stride);
        std::fill(dst, dst + kx0 * c, 0.0f);
        if (kx1 > kx0) {
          const float* src = x + (static_cast<size_t>(iy) * w + (ox * stride + kx0 - pad)) * c;
          std::memcpy(dst + kx0 * c, src, static_cast<size_t>(kx1 - kx0) * c * sizeof(float));
        }
        std::fill(dst + std::max(kx0, kx1) * c, dst + kernel * c, 0.0f);
      }
    }
  }
}

void BnRelu(float* x, int pixels, int channels, int stride, const BnAffine& bn) {
  for (int p = 0; p < pixels; ++p) {
    float* row = x + static_cast<size_t>(p) * stride;
    for (int ch = 0; ch < channels; ++ch) {
      const float prod = row[ch] * bn.scale[ch];
      row[ch] = std::max(0.0f, prod + bn.shift[ch]);
    }
  }
}

void MaxPool(const float* x, int h, int w, int c, int x_stride, int kernel, int stride, int pad,
             const BnAffine* bn, bool relu, float* out, int out_stride) {
  const int ho = ConvOut(h, kernel, stride, pad), wo = ConvOut(w, kernel, stride, pad);
  MaxPool(x, h, w, c, x_stride, kernel, stride, pad, bn, relu, PixelRange{0, ho * wo}, out,
          out_stride);
}

void MaxPool(const float* x, int h, int w, int c, int x_stride, int kernel, int stride, int pad,
             const BnAffine* bn, bool relu, PixelRange range, float* out, int out_stride) {
  const int wo = ConvOut(w, kernel, stride, pad);
  std::vector<float> best(c);
  for (int p = range.begin; p < range.end; ++p) {
    const int oy = p / wo, ox = p % wo;
    {
      std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
      for (int ky = 0; ky < kernel; ++ky) {
        const int iy = oy * stride + ky - pad;
        if (iy < 0 || iy >= h) continue;
        for (int kx = 0; kx < kernel; ++kx) {
          const int ix = ox * stride + kx - pad;
          if (ix < 0 || ix >= w) continue;
          const float* src = x + (static_cast<size_t>(iy) * w + ix) * x_stride;
          if (bn != nullptr) {
            for (int ch = 0; ch < c; ++ch) {
              const float prod = src[ch] * bn->scale[ch];
              best[ch] = std::max(best[ch], prod + bn->shift[ch]);
            }
          } else {
            for (int ch = 0; ch < c; ++ch) best[ch] = std::max(best[ch], src[ch]);
          }
        }
      }
      float* dst = out + (static_cast<size_t>(oy) * wo + ox) * out_stride;
      for (int ch = 0; ch < c; ++ch) dst[ch] = relu ? std::max(0.0f, best[ch]) : best[ch];
    }
  }
}

}  // namespace fedsmear::infer
