// Value-level helpers the codecs share: fp16 conversion, sign bitmaps and the mean-|w| scale.
// Pure functions; callers own every buffer.
#pragma once

#include <cstdint>

namespace fedsmear {

// fp16 conversion (round to nearest even).
uint16_t FloatToHalf(float value);
float HalfToFloat(uint16_t half);

// Packs signs of `values` (x >= 0 -> 1) into ceil(n/8) bytes, LSB first.
void PackSigns(const float* values, int64_t n, uint8_t* out);
// Writes +scale / -scale for each bit.
void UnpackSigns(const uint8_t* bits, int64_t n, float scale, float* out);
// The same values as UnpackSigns, branch-free on the float's bits so that it vectorises (the
// decoders' hot loop for sign blocks).
void UnpackSignBits(const uint8_t* bits, int64_t n, float scale, float* out);

// max(mean |x|, 1e-6) of n values (0 when n == 0 gives 1e-6), NaN when a value is NaN: the
// scale of a sign block, positive so that -0.0 never stands for a negative sign.
float SignScale(const float* x, int64_t n);

}  // namespace fedsmear
