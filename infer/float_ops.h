// Full-precision parts of the BinaryDenseNet engine, on NHWC float buffers: GEMM (1x1 convs,
// im2col convs, the dense head), im2col, batch-norm-affine + pooling + ReLU.
//
// Batch norm in eval mode is the per-channel affine y = x * scale + shift with scale =
// gamma / sqrt(var + eps) and shift = beta - mean * scale (BnAffine), as LibTorch computes it.
// Row-wise ops (GEMM rows, BnRelu, PackSigns) split by offsetting their pointers; Im2col and
// MaxPool take a PixelRange of output pixels. Every output value is computed the same way
// whatever the split (a GEMM row's sums run over k in one order in every tile), so split layers
// give bit-identical results.
// Thread-safety: reentrant; PackedMatrix is immutable once built. Buffers belong to the caller.
#pragma once

#include <cstddef>
#include <vector>

#include "infer/binary_conv.h"

namespace fedsmear::infer {

struct BnAffine {
  std::vector<float> scale, shift;
};
BnAffine MakeBnAffine(const float* gamma, const float* beta, const float* mean, const float* var,
                      int channels, float eps = 1e-5f);

// A weight matrix stored [k][n_padded] (n_padded a multiple of 16, padding columns 0).
struct PackedMatrix {
  int k = 0;
  int n = 0;
  int n_padded = 0;
  std::vector<float> values;

  size_t Bytes() const { return values.size() * sizeof(float); }
};
// From LibTorch's [n][k] (out, in) layout.
PackedMatrix PackMatrix(const float* w, int n, int k);
// A conv weight [out][in][kh][kw] as the matrix of im2col rows ordered (ky, kx, c).
PackedMatrix PackConvMatrix(const float* w, int out, int in, int kernel);

// c[i][0..n_padded) = sum_k a[i * lda + k] * b[k][.] for i < m; ldc >= b.n_padded (the padding
// columns are written too, with zeros).
void Gemm(const float* a, int m, int lda, const PackedMatrix& b, float* c, int ldc, Isa isa);

inline int ConvOut(int in, int kernel, int stride, int pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}
// NHWC x (h, w, c) -> rows of kernel * kernel * c values, one per output pixel, zero padded.
void Im2col(const float* x, int h, int w, int c, int kernel, int stride, int pad, float* out);
// Only the rows of output pixels in `range` (out is still the whole image's buffer).
void Im2col(const float* x, int h, int w, int c, int kernel, int stride, int pad, PixelRange range,
            float* out);

// In place on `pixels` rows of `channels` (row stride `stride`): x = max(0, x * scale + shift).
void BnRelu(float* x, int pixels, int channels, int stride, const BnAffine& bn);

// Max pool (kernel, stride, pad; padding never wins) of NHWC x (h, w, c, row stride x_stride)
// into out (row stride out_stride), after the batch-norm affine when `bn` is given, then ReLU
// when `relu`.
void MaxPool(const float* x, int h, int w, int c, int x_stride, int kernel, int stride, int pad,
             const BnAffine* bn, bool relu, float* out, int out_stride);
// Only the output pixels in `range` (out is still the whole output's buffer).
void MaxPool(const float* x, int h, int w, int c, int x_stride, int kernel, int stride, int pad,
             const BnAffine* bn, bool relu, PixelRange range, float* out, int out_stride);

}  // namespace fedsmear::infer
