#include "models/q8.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace fedsmear {
namespace {

float GetF32(const char* p) {
  float f;
  std::memcpy(&f, p, 4);  // x86/ARM are little-endian, as the formats that embed q8 blocks
  return f;
}

}  // namespace

void EncodeQ8(const float* x, const float* ref, int64_t n, Q8Rounding rounding, uint64_t seed,
              char* out) {
  auto value = [x, ref](int64_t i) { return ref ? x[i] - ref[i] : x[i]; };
  float lo = std::numeric_limits<float>::infinity();
  float hi = -lo;
  bool finite = true;
  for (int64_t i = 0; i < n; ++i) {
    const float v = value(i);
    finite = finite && std::isfinite(v);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  float step = 0;
  if (n == 0) {
    lo = 0;
  } else if (!finite) {
    lo = std::numeric_limits<float>::quiet_NaN();
  } else {
    step = static_cast<float>((static_cast<double>(hi) - lo) / 255.0);
  }
  std::memcpy(out, &lo, 4);
  std::memcpy(out + 4, &step, 4);
  uint8_t* codes = reinterpret_cast<uint8_t*>(out + kQ8HeadBytes);
  if (!(step > 0)) {
    std::memset(codes, 0, static_cast<size_t>(n));
    return;
  }
  const double inv = 1.0 / step;
  if (rounding == Q8Rounding::kNearest) {
    for (int64_t i = 0; i < n; ++i) {
      const double t = (static_cast<double>(value(i)) - lo) * inv;
      codes[i] = static_cast<uint8_t>(std::clamp(std::nearbyint(t), 0.0, 255.0));
    }
    return;
  }
  constexpr double kTwoPowMinus32 = 1.0 / 4294967296.0;
  SplitMix64 rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    const double t = (static_cast<double>(value(i)) - lo) * inv;
    const double u = static_cast<double>(rng.Next() >> 32) * kTwoPowMinus32;  // [0, 1)
    codes[i] = static_cast<uint8_t>(std::clamp(std::floor(t + u), 0.0, 255.0));
  }
}

void DecodeQ8(const char* block, const float* ref, int64_t n, float* out) {
  const float lo = GetF32(block);
  const float step = GetF32(block + 4);
  const uint8_t* codes = reinterpret_cast<const uint8_t*>(block + kQ8HeadBytes);
  if (ref) {
    for (int64_t i = 0; i < n; ++i) out[i] = ref[i] + (lo + static_cast<float>(codes[i]) * step);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = lo + static_cast<float>(codes[i]) * step;
  }
}

bool Q8HeadValid(const char* block) {
  const float lo = GetF32(block);
  const float step = GetF32(block + 4);
  return !std::isinf(lo) && std::isfinite(step) && step >= 0;
}

}  // namespace fedsmear
