// The packed model format: how a model travels to hospitals and is stored as `final.model`.
//
// Layout (little-endian):
//   "FSMODEL\0" | u32 format version | u8[32] SHA-256 of the payload | payload
//   payload = arch, classes, input size, class names, binary codec, float codec, tensors
// Binary-conv latent weights travel as their signs, 1 bit each (LSB first, 1 = +1), plus one
// per-tensor scale (mean |w|) so that unpacking gives latent weights of a sensible magnitude;
// or, with BinaryCodec::kLatentF32, as the float latent weights themselves (the float
// checkpoint). Other tensors travel as fp32, fp16 or q8 (trainable floats only: BN running
// statistics always fp32, as their variances outgrow fp16's range and a linear 8-bit grid).
// q8 block = f32 lo | f32 step | n u8 codes, value = lo + code * step, lo = min, step =
// (max - min) / 255, codes rounded to the nearest (deterministic: every site receives the same
// model); |error| <= step / 2. A tensor holding NaN/Inf is written with lo = NaN and reads
// back as NaN, as it would in f32.
// Unpacking checks magic, version, checksum, every length and the architecture (tensor names
// and shapes must match a freshly built model of the named architecture); anything else is a
// Corrupt or InvalidArgument Status with a clear message. Torch-free; functions are reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "models/model_state.h"

namespace fedsmear {

// 2: BN running statistics stay fp32 under fp16 floats (1 halved them too; still read).
// FloatCodec::kQ8 was added within format 2 (readers that predate it refuse it as a bad header).
inline constexpr uint32_t kPackedFormatVersion = 2;

enum class BinaryCodec : uint8_t { kSign1 = 0, kLatentF32 = 1 };
enum class FloatCodec : uint8_t { kF32 = 0, kF16 = 1, kQ8 = 2 };

struct PackOptions {
  BinaryCodec binary = BinaryCodec::kSign1;
  FloatCodec floats = FloatCodec::kF32;
};

std::string PackModel(const ModelState& state, const PackOptions& options = {});

// The downlink a CoordinatorConfig::codec_down names: f32 | f32+f16 | f32+q8 | sign1 |
// sign1+f16 | sign1+q8 (binary weights as latent f32 or packed signs, then the trainable
// float tensors in f32, f16 or q8).
Result<PackOptions> ParseDownlinkCodec(const std::string& codec);
// Every codec_down value, smallest last.
const std::vector<std::string>& DownlinkCodecNames();

// Parses and verifies the bytes. Tensor layout is checked against the architecture by
// models/densenet.h's LoadPacked; this level checks the format itself.
// `max_values` bounds the unpacked size (a sign1 blob expands 32x): kResourceExhausted above it,
// checked before anything is allocated.
Result<ModelState> UnpackModel(std::string_view bytes, uint64_t max_values = UINT64_MAX);

// fp16 conversion (round to nearest even), exposed for codecs and tests.
uint16_t FloatToHalf(float value);
float HalfToFloat(uint16_t half);

// Packs signs of `values` (x >= 0 -> 1) into ceil(n/8) bytes, LSB first.
void PackSigns(const float* values, int64_t n, uint8_t* out);
// Writes +scale / -scale for each bit.
void UnpackSigns(const uint8_t* bits, int64_t n, float scale, float* out);

}  // namespace fedsmear
