// The packed model format: how a model travels to hospitals and is stored as `final.model`.
//
// Layout (little-endian):
//   "FSMODEL\0" | u32 format version | u8[32] SHA-256 of the payload | payload
//   payload = arch, classes, input size, class names, u8 binary codec id, u8 floats codec id,
//             tensors (name, kind, shape, then its block in its codec)
// The codec ids are the downlink wire ids the codec registry declares (models/codecs/). Binary-
// conv latent weights travel as sign1 (models/codecs/sign1_down.cc: one f32 scale, mean |w|,
// then the signs, 1 bit each, so that unpacking gives latent weights of a sensible magnitude) or
// as f32 (the float latent weights themselves, the float checkpoint). Trainable floats travel as
// f32, f16 or q8 (models/codecs/q8.cc: nearest rounding, so every site receives the same
// model; |error| <= step / 2); BN running statistics always as f32, as their variances outgrow
// fp16's range and a linear 8-bit grid. A tensor holding NaN/Inf reads back as NaN under q8, as
// it would in f32.
// Unpacking checks magic, version, checksum, every length and the architecture (tensor names
// and shapes must match a freshly built model of the named architecture); anything else is a
// Corrupt or InvalidArgument Status with a clear message. Torch-free; functions are reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "models/codecs/codec_registry.h"
#include "models/codecs/primitives.h"  // FloatToHalf, PackSigns, ... for callers of this header
#include "models/model_state.h"

namespace fedsmear {

// 2: BN running statistics stay fp32 under fp16 floats (1 halved them too; still read).
// Format 1 knew the floats codecs f32 and f16 only; codecs added since (q8) are new ids within
// format 2, which readers that predate them refuse as a bad header.
inline constexpr uint32_t kPackedFormatVersion = 2;

// A codec_down, parsed: handles into the codec registry (valid for the program's life), each
// offered for (kDownlink, its slot). The default is sign1 (binary weights) + f32 (floats).
struct PackOptions {
  const TensorCodec* binary =
      Codecs().Find(CodecDirection::kDownlink, CodecSlot::kBinary, "sign1");
  const TensorCodec* floats = &Codecs().f32();
};

// Precondition (std::invalid_argument otherwise): `options` names downlink codecs.
std::string PackModel(const ModelState& state, const PackOptions& options = {});

// The downlink a CoordinatorConfig::codec_down names: "<binary>[+<floats>]" over the registry's
// downlink codecs, today f32 | f32+f16 | f32+q8 | sign1 | sign1+f16 | sign1+q8 (binary weights
// as latent f32 or packed signs, then the trainable float tensors in f32, f16 or q8). Only the
// names DownlinkCodecNames lists parse (a floats codec f32 is never written out).
Result<PackOptions> ParseDownlinkCodec(std::string_view codec);
// Every codec_down value, binary-major in registration order (largest first, smallest last).
const std::vector<std::string>& DownlinkCodecNames();
// "f32": latent weights and every float as f32, lossless (files, BN statistics, fallbacks).
PackOptions LosslessPackOptions();

// Parses and verifies the bytes. Tensor layout is checked against the architecture by
// models/densenet.h's LoadPacked; this level checks the format itself.
// `max_values` bounds the unpacked size (a sign1 blob expands 32x): kResourceExhausted above it,
// checked before anything is allocated.
Result<ModelState> UnpackModel(std::string_view bytes, uint64_t max_values = UINT64_MAX);

}  // namespace fedsmear
