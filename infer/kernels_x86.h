// x86 SIMD kernels behind infer/binary_conv.h and infer/float_ops.h (internal to fedsmear_infer).
// Each is compiled for its instruction set with target attributes and must only be called when
// IsaSupported() says the CPU has it. Same contracts as the public entry points.
#pragma once

#include <cstdint>

#include "infer/binary_conv.h"

namespace fedsmear::infer::x86 {

bool HasAvx2();
bool HasAvx512();

// Output pixels [p0, p1) (row-major) only.
void BinaryConv3x3Avx2(const uint64_t* act, int height, int width, const PackedConvWeights& w,
                       int p0, int p1, float* out, int out_stride);
void BinaryConv3x3Avx512(const uint64_t* act, int height, int width, const PackedConvWeights& w,
                         int p0, int p1, float* out, int out_stride);
void PackSignsAvx2(const float* x, int pixels, int channels, int x_stride, const float* scale,
                   const float* shift, uint64_t* out);
void PackSignsAvx512(const float* x, int pixels, int channels, int x_stride, const float* scale,
                     const float* shift, uint64_t* out);
// C[m][0..n_padded) = A[m][0..k) * B[k][n_padded]; n_padded a multiple of 16.
void GemmAvx2(const float* a, int m, int k, int lda, const float* b, int n_padded, float* c,
              int ldc);
void GemmAvx512(const float* a, int m, int k, int lda, const float* b, int n_padded, float* c,
                int ldc);

}  // namespace fedsmear::infer::x86
