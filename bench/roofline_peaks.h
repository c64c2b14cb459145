// Register-resident peak kernels for bench/infer_roofline_bench.cc: the instruction mix of the
// binary engine's inner loops (infer/kernels_x86.cc) with no loads, so that their rate is what
// one core can issue, the roofline the engine's layers are measured against.
//
//   XnorPopcountAvx2    per 256-bit group: vpxor, the nibble-table popcount (vpand, vpsrlw,
//                       vpand, 2 x vpshufb, vpaddb) and vpaddb into byte counters; vpsadbw +
//                       vpaddq every 31 words; 4 groups per activation word, as Avx2Chunk<4>
//   XnorPopcountAvx512  per 512-bit group: vpxorq, vpopcntq, vpaddq; 8 groups per word, as
//                       Avx512Chunk<8>
//   FmaAvx2 / FmaAvx512 12 independent vfmadd231ps chains (the GEMM tiles use 8 and 12)
// Each returns a value depending on every result so that nothing is optimised away; the
// activation word is hidden from the compiler (an empty asm) each step, as a new word is in
// the kernel. Operation counts: binary ops are bit MACs (one XNOR + accumulate per bit pair),
// FLOPs are 2 per FMA lane. Pure functions; callers check the ISA first (IsaSupported).
#pragma once

#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>

namespace fedsmear::bench {

// Bit MACs of one call of each XNOR-popcount kernel with `blocks` blocks of 31 words.
inline double XnorPopcountAvx2Ops(int64_t blocks) { return blocks * 31.0 * 4 * 256; }
inline double XnorPopcountAvx512Ops(int64_t blocks) { return blocks * 31.0 * 8 * 512; }
// FLOPs of one call of each FMA kernel with `steps` steps.
inline double FmaAvx2Ops(int64_t steps) { return steps * 12.0 * 8 * 2; }
inline double FmaAvx512Ops(int64_t steps) { return steps * 12.0 * 16 * 2; }

__attribute__((target("avx2"))) inline int64_t XnorPopcountAvx2(int64_t blocks, uint64_t seed) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2,
                                       1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i mask = _mm256_set1_epi8(0x0f);
  const __m256i zero = _mm256_setzero_si256();
  __m256i w[4], acc[4], bytes[4];
  for (int g = 0; g < 4; ++g) {
    w[g] = _mm256_set1_epi64x(static_cast<long long>(seed * (2 * g + 3)));
    acc[g] = bytes[g] = zero;
  }
  __m256i a = _mm256_set1_epi64x(static_cast<long long>(seed));
  for (int64_t b = 0; b < blocks; ++b) {
    for (int k = 0; k < 31; ++k) {
      asm volatile("" : "+x"(a));
      for (int g = 0; g < 4; ++g) {
        const __m256i v = _mm256_xor_si256(a, w[g]);
        const __m256i lo = _mm256_and_si256(v, mask);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
        const __m256i pc =
            _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
        bytes[g] = _mm256_add_epi8(bytes[g], pc);
      }
    }
    for (int g = 0; g < 4; ++g) {
      acc[g] = _mm256_add_epi64(acc[g], _mm256_sad_epu8(bytes[g], zero));
      bytes[g] = zero;
    }
  }
  __m256i sum =
      _mm256_add_epi64(_mm256_add_epi64(acc[0], acc[1]), _mm256_add_epi64(acc[2], acc[3]));
  alignas(32) int64_t out[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), sum);
  return out[0] + out[1] + out[2] + out[3];
}

__attribute__((target("avx512f,avx512vpopcntdq"))) inline int64_t XnorPopcountAvx512(
    int64_t blocks, uint64_t seed) {
  __m512i w[8], acc[8];
  for (int g = 0; g < 8; ++g) {
    w[g] = _mm512_set1_epi64(static_cast<long long>(seed * (2 * g + 3)));
    acc[g] = _mm512_setzero_si512();
  }
  __m512i a = _mm512_set1_epi64(static_cast<long long>(seed));
  for (int64_t b = 0; b < blocks; ++b) {
    for (int k = 0; k < 31; ++k) {
      asm volatile("" : "+v"(a));
      for (int g = 0; g < 8; ++g) {
        acc[g] = _mm512_add_epi64(acc[g], _mm512_popcnt_epi64(_mm512_xor_si512(a, w[g])));
      }
    }
  }
  for (int g = 1; g < 8; ++g) acc[0] = _mm512_add_epi64(acc[0], acc[g]);
  alignas(64) int64_t out[8];  // not _mm512_reduce_*: GCC 12 warns inside it
  _mm512_store_si512(out, acc[0]);
  return out[0] + out[7];
}

__attribute__((target("avx2,fma"))) inline float FmaAvx2(int64_t steps, float seed) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(seed + i);
  const __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
  for (int64_t s = 0; s < steps; ++s) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, c);
  }
  for (int i = 1; i < 12; ++i) acc[0] = _mm256_add_ps(acc[0], acc[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, acc[0]);
  return out[0] + out[7];
}

__attribute__((target("avx512f"))) inline float FmaAvx512(int64_t steps, float seed) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(seed + i);
  const __m512 m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-3f);
  for (int64_t s = 0; s < steps; ++s) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, c);
  }
  for (int i = 1; i < 12; ++i) acc[0] = _mm512_add_ps(acc[0], acc[i]);
  alignas(64) float out[16];
  _mm512_store_ps(out, acc[0]);
  return out[0] + out[15];
}

}  // namespace fedsmear::bench

#endif  // __x86_64__
