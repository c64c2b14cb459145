#include "models/codecs/primitives.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fedsmear {

uint16_t FloatToHalf(float value) {
  uint32_t x;
  std::memcpy(&x, &value, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t exp = (x >> 23) & 0xffu;
  uint32_t mant = x & 0x7fffffu;
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0));  // Inf/NaN
  int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> Inf
  if (e <= 0) {                                                 // subnormal or zero
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) ++half;  // may carry into exponent: ok
  return static_cast<uint16_t>(half);
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

void PackSigns(const float* values, int64_t n, uint8_t* out) {
  int64_t full = n / 8;
  for (int64_t b = 0; b < full; ++b) {
    const float* v = values + 8 * b;
    uint8_t byte = 0;
    for (int i = 0; i < 8; ++i) byte |= static_cast<uint8_t>((v[i] >= 0.f) << i);
    out[b] = byte;
  }
  if (n % 8) {
    uint8_t byte = 0;
    for (int64_t i = 8 * full; i < n; ++i) byte |= static_cast<uint8_t>((values[i] >= 0.f) << (i % 8));
    out[full] = byte;
  }
}

void UnpackSigns(const uint8_t* bits, int64_t n, float scale, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = ((bits[i >> 3] >> (i & 7)) & 1) ? scale : -scale;
}

void UnpackSignBits(const uint8_t* bits, int64_t n, float scale, float* out) {
  uint32_t magnitude;
  std::memcpy(&magnitude, &scale, 4);
  magnitude &= 0x7fffffffu;
  const int64_t full = n / 8;
  for (int64_t b = 0; b < full; ++b) {
    const uint32_t negative = ~static_cast<uint32_t>(bits[b]);
    uint32_t word[8];
    for (int j = 0; j < 8; ++j) word[j] = magnitude | (((negative >> j) & 1u) << 31);
    std::memcpy(out + 8 * b, word, sizeof(word));
  }
  for (int64_t k = 8 * full; k < n; ++k) {
    const uint32_t word = magnitude | ((~(bits[k >> 3] >> (k & 7)) & 1u) << 31);
    std::memcpy(out + k, &word, 4);
  }
}

float SignScale(const float* x, int64_t n) {
  double sum = 0;
  for (int64_t k = 0; k < n; ++k) sum += std::fabs(x[k]);
  return std::max(n ? static_cast<float>(sum / n) : 0.f, 1e-6f);
}

}  // namespace fedsmear
