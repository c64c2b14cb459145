#include "infer/kernels_x86.h"

#include <algorithm>
#include <cstddef>

#if defined(__x86_64__)
#include <immintrin.h>
// GCC 12's avx512fintrin.h builds some vectors from a deliberately uninitialised one
// (_mm512_undefined_*), which -Wmaybe-uninitialized reports inside our kernels.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define FS_AVX2 __attribute__((target("avx2,fma,popcnt")))
#define FS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vpopcntdq,avx2,fma,popcnt")))
#endif

namespace fedsmear::infer::x86 {

#if defined(__x86_64__)
namespace {

// Taps of output row/column `i` of an n-long axis that fall inside the image: [lo, hi).
inline void TapRange(int i, int n, int* lo, int* hi) {
  *lo = i == 0 ? 1 : 0;
  *hi = i == n - 1 ? 2 : 3;
  if (n == 1) *hi = 2;
}

// Stores 8 exact counts (int64 lanes of `v`) as floats at dst[0..n), n <= 8.
FS_AVX512 inline void Store8(__m512i v, float* dst, int n) {
  __m256 f = _mm256_cvtepi32_ps(_mm512_cvtepi64_epi32(v));
  if (n == 8) {
    _mm256_storeu_ps(dst, f);
  } else {
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, f);
    std::copy(tmp, tmp + n, dst);
  }
}

template <int NG>
FS_AVX512 void Avx512Chunk(const uint64_t* act, int height, int width, const PackedConvWeights& w,
                           int p0, int p1, int o0, float* out, int out_stride) {
  const int words = w.words;
  const size_t op = static_cast<size_t>(w.out_padded);
  const int nout = std::min(8 * NG, w.out_channels - o0);
  for (int p = p0; p < p1; ++p) {
    const int y = p / width, x = p % width;
    int ky0, ky1;
    TapRange(y, height, &ky0, &ky1);
    {
      int kx0, kx1;
      TapRange(x, width, &kx0, &kx1);
      __m512i acc[NG];
      for (int g = 0; g < NG; ++g) acc[g] = _mm512_setzero_si512();
      for (int ky = ky0; ky < ky1; ++ky) {
        for (int kx = kx0; kx < kx1; ++kx) {
          const uint64_t* a =
              act + (static_cast<size_t>(y + ky - 1) * width + (x + kx - 1)) * words;
          const uint64_t* wt = w.bits.data() + static_cast<size_t>(ky * 3 + kx) * words * op + o0;
          for (int k = 0; k < words; ++k) {
            const __m512i av = _mm512_set1_epi64(static_cast<long long>(a[k]));
            const uint64_t* row = wt + static_cast<size_t>(k) * op;
            for (int g = 0; g < NG; ++g) {
              const __m512i wv = _mm512_loadu_si512(row + 8 * g);
              acc[g] = _mm512_add_epi64(acc[g], _mm512_popcnt_epi64(_mm512_xor_si512(av, wv)));
            }
          }
        }
      }
      const int taps = (ky1 - ky0) * (kx1 - kx0);
      const __m512i base = _mm512_set1_epi64(static_cast<long long>(taps) * w.in_channels);
      float* dst = out + (static_cast<size_t>(y) * width + x) * out_stride + o0;
      for (int g = 0; g < NG && 8 * g < nout; ++g) {
        Store8(_mm512_sub_epi64(base, _mm512_slli_epi64(acc[g], 1)), dst + 8 * g,
               std::min(8, nout - 8 * g));
      }
    }
  }
}

FS_AVX2 inline __m256i PopcountBytes(__m256i v) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2,
                                       1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i mask = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_and_si256(v, mask);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

// NG groups of 4 outputs. Byte counters are flushed into 64-bit lanes every 31 words (a byte
// gains at most 8 per word).
template <int NG>
FS_AVX2 void Avx2Chunk(const uint64_t* act, int height, int width, const PackedConvWeights& w,
                       int p0, int p1, int o0, float* out, int out_stride) {
  const int words = w.words;
  const size_t op = static_cast<size_t>(w.out_padded);
  const int nout = std::min(4 * NG, w.out_channels - o0);
  const __m256i zero = _mm256_setzero_si256();
  for (int p = p0; p < p1; ++p) {
    const int y = p / width, x = p % width;
    int ky0, ky1;
    TapRange(y, height, &ky0, &ky1);
    {
      int kx0, kx1;
      TapRange(x, width, &kx0, &kx1);
      __m256i acc[NG], bytes[NG];
      for (int g = 0; g < NG; ++g) acc[g] = bytes[g] = zero;
      int pending = 0;
      for (int ky = ky0; ky < ky1; ++ky) {
        for (int kx = kx0; kx < kx1; ++kx) {
          const uint64_t* a =
              act + (static_cast<size_t>(y + ky - 1) * width + (x + kx - 1)) * words;
          const uint64_t* wt = w.bits.data() + static_cast<size_t>(ky * 3 + kx) * words * op + o0;
          for (int k = 0; k < words; ++k) {
            const __m256i av = _mm256_set1_epi64x(static_cast<long long>(a[k]));
            const uint64_t* row = wt + static_cast<size_t>(k) * op;
            for (int g = 0; g < NG; ++g) {
              const __m256i wv =
                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 4 * g));
              bytes[g] = _mm256_add_epi8(bytes[g], PopcountBytes(_mm256_xor_si256(av, wv)));
            }
            if (++pending == 31) {
              for (int g = 0; g < NG; ++g) {
                acc[g] = _mm256_add_epi64(acc[g], _mm256_sad_epu8(bytes[g], zero));
                bytes[g] = zero;
              }
              pending = 0;
            }
          }
        }
      }
      const int64_t base = static_cast<int64_t>((ky1 - ky0) * (kx1 - kx0)) * w.in_channels;
      float* dst = out + (static_cast<size_t>(y) * width + x) * out_stride + o0;
      for (int g = 0; g < NG; ++g) {
        acc[g] = _mm256_add_epi64(acc[g], _mm256_sad_epu8(bytes[g], zero));
        alignas(32) int64_t counts[4];
        _mm256_store_si256(reinterpret_cast<__m256i*>(counts), acc[g]);
        for (int j = 0; j < 4 && 4 * g + j < nout; ++j) {
          dst[4 * g + j] = static_cast<float>(base - 2 * counts[j]);
        }
      }
    }
  }
}

}  // namespace

bool HasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("popcnt");
}

bool HasAvx512() {
  __builtin_cpu_init();
  return HasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vpopcntdq");
}

void BinaryConv3x3Avx512(const uint64_t* act, int height, int width, const PackedConvWeights& w,
                         int p0, int p1, float* out, int out_stride) {
  for (int o0 = 0; o0 < w.out_channels; o0 += 64) {
    switch (std::min(8, (w.out_padded - o0) / 8)) {
      case 8: Avx512Chunk<8>(act, height, width, w, p0, p1, o0, out, out_stride); break;
      case 7: Avx512Chunk<7>(act, height, width, w, p0, p1, o0, out, out_stride); break;
      case 6: Avx512Chunk<6>(act, height, width, w, p0, p1, o0, out, out_stride); break;
      case 5: Avx512Chunk<5>(act, height, width, w, p0, p1, o0, out, out_stride); break;
      case 4: Avx512Chunk<4>(act, height, width, w, p0, p1, o0, out, out_stride); break;
      case 3: Avx512Chunk<3>(act, height, width, w, p0, p1, o0, out, out_stride); break;
      case 2: Avx512Chunk<2>(act, height, width, w, p0, p1, o0, out, out_stride); break;
      default: Avx512Chunk<1>(act, height, width, w, p0, p1, o0, out, out_stride); break;
    }
  }
}

void BinaryConv3x3Avx2(const uint64_t* act, int height, int width, const PackedConvWeights& w,
                       int p0, int p1, float* out, int out_stride) {
  // out_padded is a multiple of 8: chunks of 16 outputs, the last possibly 8.
  for (int o0 = 0; o0 < w.out_channels; o0 += 16) {
    if (w.out_padded - o0 >= 16) {
      Avx2Chunk<4>(act, height, width, w, p0, p1, o0, out, out_stride);
    } else {
      Avx2Chunk<2>(act, height, width, w, p0, p1, o0, out, out_stride);
    }
  }
}

FS_AVX2 void PackSignsAvx2(const float* x, int pixels, int channels, int x_stride,
                           const float* scale, const float* shift, uint64_t* out) {
  const int words = (channels + 63) / 64;
  const __m256 zero = _mm256_setzero_ps();
  for (int p = 0; p < pixels; ++p) {
    const float* row = x + static_cast<size_t>(p) * x_stride;
    uint64_t* dst = out + static_cast<size_t>(p) * words;
    // Each word is built in a register and stored once (or-ing into memory 8 times a word
    // chains every step on a store-to-load forward).
    for (int k = 0; k < words; ++k) {
      const int c0 = 64 * k, c1 = std::min(channels, c0 + 64);
      uint64_t word = 0;
      int c = c0;
      for (; c + 8 <= c1; c += 8) {
        const __m256 prod = _mm256_mul_ps(_mm256_loadu_ps(row + c), _mm256_loadu_ps(scale + c));
        const __m256 y = _mm256_add_ps(prod, _mm256_loadu_ps(shift + c));
        const int bits = _mm256_movemask_ps(_mm256_cmp_ps(y, zero, _CMP_GE_OQ));
        word |= static_cast<uint64_t>(static_cast<uint32_t>(bits)) << (c - c0);
      }
      for (; c < c1; ++c) {
        const float prod = row[c] * scale[c];
        const float y = prod + shift[c];
        if (y >= 0.0f) word |= uint64_t{1} << (c - c0);
      }
      dst[k] = word;
    }
  }
}

FS_AVX512 void PackSignsAvx512(const float* x, int pixels, int channels, int x_stride,
                               const float* scale, const float* shift, uint64_t* out) {
  const int words = (channels + 63) / 64;
  const __m512 zero = _mm512_setzero_ps();
  for (int p = 0; p < pixels; ++p) {
    const float* row = x + static_cast<size_t>(p) * x_stride;
    uint64_t* dst = out + static_cast<size_t>(p) * words;
    for (int k = 0; k < words; ++k) {
      const int c0 = 64 * k, c1 = std::min(channels, c0 + 64);
      uint64_t word = 0;
      int c = c0;
      for (; c + 16 <= c1; c += 16) {
        const __m512 prod = _mm512_mul_ps(_mm512_loadu_ps(row + c), _mm512_loadu_ps(scale + c));
        const __m512 y = _mm512_add_ps(prod, _mm512_loadu_ps(shift + c));
        const __mmask16 bits = _mm512_cmp_ps_mask(y, zero, _CMP_GE_OQ);
        word |= static_cast<uint64_t>(bits) << (c - c0);
      }
      for (; c < c1; ++c) {
        const float prod = row[c] * scale[c];
        const float y = prod + shift[c];
        if (y >= 0.0f) word |= uint64_t{1} << (c - c0);
      }
      dst[k] = word;
    }
  }
}

FS_AVX2 void GemmAvx2(const float* a, int m, int k, int lda, const float* b, int n_padded,
                      float* c, int ldc) {
  for (int j = 0; j < n_padded; j += 16) {
    int i = 0;
    for (; i + 4 <= m; i += 4) {
      __m256 acc[8];
      for (int t = 0; t < 8; ++t) acc[t] = _mm256_setzero_ps();
      const float* a0 = a + static_cast<size_t>(i) * lda;
      for (int kk = 0; kk < k; ++kk) {
        const float* brow = b + static_cast<size_t>(kk) * n_padded + j;
        const __m256 b0 = _mm256_loadu_ps(brow);
        const __m256 b1 = _mm256_loadu_ps(brow + 8);
        for (int r = 0; r < 4; ++r) {
          const __m256 av = _mm256_broadcast_ss(a0 + static_cast<size_t>(r) * lda + kk);
          acc[2 * r] = _mm256_fmadd_ps(av, b0, acc[2 * r]);
          acc[2 * r + 1] = _mm256_fmadd_ps(av, b1, acc[2 * r + 1]);
        }
      }
      for (int r = 0; r < 4; ++r) {
        float* dst = c + static_cast<size_t>(i + r) * ldc + j;
        _mm256_storeu_ps(dst, acc[2 * r]);
        _mm256_storeu_ps(dst + 8, acc[2 * r + 1]);
      }
    }
    for (; i < m; ++i) {
      __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
      const float* arow = a + static_cast<size_t>(i) * lda;
      for (int kk = 0; kk < k; ++kk) {
        const float* brow = b + static_cast<size_t>(kk) * n_padded + j;
        const __m256 av = _mm256_broadcast_ss(arow + kk);
        acc0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(brow), acc0);
        acc1 = _mm256_fmadd_ps(av, _mm256_loadu_ps(brow + 8), acc1);
      }
      float* dst = c + static_cast<size_t>(i) * ldc + j;
      _mm256_storeu_ps(dst, acc0);
      _mm256_storeu_ps(dst + 8, acc1);
    }
  }
}

// Tiles of R rows x (16 * NV) columns; R * NV accumulators.
template <int R, int NV>
FS_AVX512 inline void GemmTile512(const float* a, int k, int lda, const float* b, int n_padded,
                                  float* c, int ldc) {
  __m512 acc[R][NV];
  for (int r = 0; r < R; ++r) {
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  for (int kk = 0; kk < k; ++kk) {
    const float* brow = b + static_cast<size_t>(kk) * n_padded;
    __m512 bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(brow + 16 * v);
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a[static_cast<size_t>(r) * lda + kk]);
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int v = 0; v < NV; ++v) {
      _mm512_storeu_ps(c + static_cast<size_t>(r) * ldc + 16 * v, acc[r][v]);
    }
  }
}

template <int NV>
FS_AVX512 void GemmPanel512(const float* a, int m, int k, int lda, const float* b, int n_padded,
                            float* c, int ldc) {
  int i = 0;
  for (; i + 6 <= m; i += 6) {
    GemmTile512<6, NV>(a + static_cast<size_t>(i) * lda, k, lda, b, n_padded,
                       c + static_cast<size_t>(i) * ldc, ldc);
  }
  // The last 1-5 rows in one tile: B is streamed once more, not once per row (a 2x2 map's
  // transition has 4 rows in all). Each value's sum runs over k in the same order.
  const float* ar = a + static_cast<size_t>(i) * lda;
  float* cr = c + static_cast<size_t>(i) * ldc;
  switch (m - i) {
    case 5: GemmTile512<5, NV>(ar, k, lda, b, n_padded, cr, ldc); break;
    case 4: GemmTile512<4, NV>(ar, k, lda, b, n_padded, cr, ldc); break;
    case 3: GemmTile512<3, NV>(ar, k, lda, b, n_padded, cr, ldc); break;
    case 2: GemmTile512<2, NV>(ar, k, lda, b, n_padded, cr, ldc); break;
    case 1: GemmTile512<1, NV>(ar, k, lda, b, n_padded, cr, ldc); break;
    default: break;
  }
}

FS_AVX512 void GemmAvx512(const float* a, int m, int k, int lda, const float* b, int n_padded,
                          float* c, int ldc) {
  int j = 0;
  for (; j + 32 <= n_padded; j += 32) GemmPanel512<2>(a, m, k, lda, b + j, n_padded, c + j, ldc);
  if (j < n_padded) GemmPanel512<1>(a, m, k, lda, b + j, n_padded, c + j, ldc);
}

#else  // not x86-64: only the reference kernels exist.

bool HasAvx2() { return false; }
bool HasAvx512() { return false; }
void BinaryConv3x3Avx2(const uint64_t*, int, int, const PackedConvWeights&, int, int, float*,
                       int) {}
void BinaryConv3x3Avx512(const uint64_t*, int, int, const PackedConvWeights&, int, int, float*,
                         int) {}
void PackSignsAvx2(const float*, int, int, int, const float*, const float*, uint64_t*) {}
void PackSignsAvx512(const float*, int, int, int, const float*, const float*, uint64_t*) {}
void GemmAvx2(const float*, int, int, int, const float*, int, float*, int) {}
void GemmAvx512(const float*, int, int, int, const float*, int, float*, int) {}

#endif

}  // namespace fedsmear::infer::x86
