// q8: 8-bit linear quantization of one float tensor, shared by the downlink (packed models,
// models/packed_model.cc: nearest rounding) and the uplink (update codec, models/codec.cc:
// stochastic rounding, so that the sample-weighted mean of many sites' decoded values is an
// unbiased estimate of the mean of their true values).
//
// Block layout, little-endian: f32 lo, f32 step, then n uint8 codes; a code c decodes to
// lo + c * step (plus the reference value for a delta). step = (max - min) / 255, so the grid
// spans the tensor exactly: nearest rounding errs by at most step / 2, stochastic rounding by
// less than one step. A tensor holding NaN or Inf is written with lo = NaN and step 0, so the
// receiver's finiteness check refuses it instead of averaging it in; an empty or constant
// tensor has step 0.
//
// Thread-safety: pure functions; SplitMix64 objects are not shared. Ownership: callers own
// every buffer (`out` must hold Q8Bytes(n) bytes; `ref`, when given, n floats).
#ifndef FEDSMEAR_MODELS_Q8_H_
#define FEDSMEAR_MODELS_Q8_H_

#include <cstddef>
#include <cstdint>

namespace fedsmear {

inline constexpr size_t kQ8HeadBytes = 8;  // f32 lo, f32 step

enum class Q8Rounding : uint8_t { kNearest, kStochastic };

// SplitMix64 (Steele et al. 2014): a tiny, statistically sound generator; the stochastic
// rounding's uniform draws and the codec's per-tensor seeds.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// Bytes of one q8 block of n values.
inline size_t Q8Bytes(int64_t n) { return kQ8HeadBytes + static_cast<size_t>(n); }

// Quantizes x - ref (x alone when ref is null) into `out`. `seed` feeds the stochastic
// rounding and is ignored under kNearest; the same seed gives the same codes.
void EncodeQ8(const float* x, const float* ref, int64_t n, Q8Rounding rounding, uint64_t seed,
              char* out);

// Decodes a block written by EncodeQ8 into out[0..n), adding ref when it is not null.
void DecodeQ8(const char* block, const float* ref, int64_t n, float* out);

// Whether a block's head is one EncodeQ8 can write: lo finite or NaN (a non-finite input,
// refused later by the finiteness check), step finite and >= 0. Decoding validates with this.
bool Q8HeadValid(const char* block);

}  // namespace fedsmear

#endif  // FEDSMEAR_MODELS_Q8_H_
