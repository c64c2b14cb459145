// Compact update codecs: how a site's trained model travels back to the coordinator.
//
// An update is encoded against a layout that both ends already hold (the global model of the
// round), so names and shapes never travel, only values:
//
//   header  "FSUP" | u8 version | u8 binary codec id | u8 floats codec id | u8 frame id
//           | u32 tensor count | u64 layout fingerprint | u64 payload bytes | u8[32] SHA-256
//   payload one block per tensor, in layout order, each in its tensor's codec
//           (models/codecs/codec_registry.h: binary weights the binary codec's, trainable floats
//           the floats codec's, BN running statistics always f32); a block's size follows from
//           its codec and the tensor's element count n alone. The codecs (models/codecs/):
//     binary (kBinary) tensors     sign1          ceil(n/8)        signs, LSB first, 1 = +1
//                                  sign1_scaled   4 + ceil(n/8)    f32 mean|w|, then signs
//                                  q8_delta       8 + n            q8 of (trained - reference)
//                                  f32            4n               latent weights as they are
//     float tensors (kFloat)       f32            4n
//                                  f16            2n               round to nearest even
//                                  q8             8 + n            q8 of the values
//     BN statistics (kStat)        f32            4n               whatever the floats codec
//   frame   0: none (the payload as above); 1: zstd, the payload as one zstd frame
//           (models/codecs/zstd.cc). Payload bytes and SHA-256 are those of the bytes sent.
//   The header's ids are the codecs' declared wire ids; a reader that predates a frame refuses
//   it as an unknown encoding.
//   q8 block = f32 lo | f32 step | n u8 codes; value = lo + code * step, with lo = min and
//   step = (max - min) / 255. Codes are rounded stochastically (code = floor(t + u), u uniform
//   in [0,1) from a generator seeded by `seed` and the tensor index), so E[decode(encode(x))] = x
//   and |decode(encode(x)) - x| < step. A tensor holding NaN/Inf is sent as lo = NaN and decodes
//   to NaN, so that the aggregators' finiteness check rejects it as it would in f32.
//   BN running statistics (kStat) always travel as f32: a running-variance tensor of a trained
//   BinaryDenseNet spans 0.1 to tens of thousands, so a linear 8-bit grid rounds most channels'
//   variances to 0 and f16 overflows to Inf.
//
// Decoding (sign1 -> +-1, sign1_scaled -> +-scale) checks magic, version, codec ids, the
// tensor count and layout fingerprint against `layout`, the payload length against the size the
// layout implies (before touching any value; for a frame, before decompressing) and the
// checksum: anything wrong is kCorrupt.
// q8_delta adds the decoded delta to `layout`'s values, so the coordinator must pass exactly
// the model the site was given as reference (the full-precision global, not a sign1 downlink).
//
// Thread-safety: free functions without shared state; reentrant. Ownership: inputs are
// borrowed for the call; results are returned by value.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "models/codecs/codec_registry.h"
#include "models/model_state.h"

namespace fedsmear {

inline constexpr uint8_t kCodecVersion = 2;  // 2: BN statistics always f32
inline constexpr size_t kCodecHeaderBytes = 4 + 4 + 4 + 8 + 8 + 32;  // 60

// A codec_up, parsed: handles into the codec registry (valid for the program's life).
struct CodecSpec {
  const TensorCodec* binary = &Codecs().f32();  // offered for (kUplink, kBinary)
  const TensorCodec* floats = &Codecs().f32();  // offered for (kUplink, kFloats)
  const FrameCodec* frame = nullptr;            // offered for kUplink, or none
  bool operator==(const CodecSpec& o) const {
    return binary == o.binary && floats == o.floats && frame == o.frame;
  }
};

// "<binary>+<floats>[+<frame>]", e.g. "sign1+f16" or "sign1+q8+zstd"; a lone binary name means
// "<name>+f32" ("f32" is f32+f32, "f32+zstd" is f32+f32+zstd). CodecSpecName gives the canonical
// form ("f32" for f32+f32), which parses back. Unknown names are InvalidArgument.
Result<CodecSpec> ParseCodecSpec(std::string_view text);
std::string CodecSpecName(const CodecSpec& spec);

// Every binary x floats combination without a frame, binary-major in registration order
// (4 x 3 = 12): the codecs whose EncodedUpdateSize is exact. For tests, benchmarks and tools.
std::vector<CodecSpec> AllCodecSpecs();
// AllCodecSpecs() and then each of them under every uplink frame: every codec_up there is.
std::vector<CodecSpec> AllUplinkCodecSpecs();

// Size of EncodeUpdate's output for a state of this layout: exact without a frame, an upper
// bound with one.
size_t EncodedUpdateSize(const ModelState& layout, const CodecSpec& spec);

// Encodes `trained`. Preconditions (programming errors, std::invalid_argument otherwise): `spec`
// names uplink codecs, every tensor holds NumElements(shape) values and, for a codec that
// needs_reference (q8_delta), `reference` is non-null with the same layout. Deterministic for a
// given seed.
std::string EncodeUpdate(const ModelState& trained, const ModelState* reference,
                         const CodecSpec& spec, uint64_t seed);

// Decodes into a state with `layout`'s metadata, names, shapes and kinds. Only a codec that
// needs_reference (q8_delta) reads `layout`'s values (InvalidArgument when a binary tensor lacks
// them); bad bytes are kCorrupt.
Result<ModelState> DecodeUpdate(std::string_view bytes, const ModelState& layout);

// A validated view of encoded bytes (header, fingerprint, sizes and checksum checked), for
// consumers that read blocks directly (coordinator/vote.h counts sign bits without unpacking).
// `blocks[i]` is tensor i's block; the view borrows `bytes` (a framed update's blocks point into
// the decompressed payload, which the view owns and its copies share).
struct EncodedUpdateView {
  CodecSpec spec;
  std::vector<std::string_view> blocks;
  std::shared_ptr<const std::string> unframed;  // the decompressed payload of a framed update
};
Result<EncodedUpdateView> ParseEncodedUpdate(std::string_view bytes, const ModelState& layout);

// Decodes one validated block into `out` (NumElements values). `reference` is the layout
// tensor (its values are the reference of a codec that needs_reference).
void DecodeBlock(const CodecSpec& spec, const NamedTensor& reference, std::string_view block,
                 float* out);

// 64-bit fingerprint of the layout: architecture, classes, tensor names, kinds and shapes.
uint64_t LayoutFingerprint(const ModelState& layout);

}  // namespace fedsmear
