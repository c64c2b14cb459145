// Compact update codecs (issue 7): how a site's trained model travels back to the coordinator.
//
// An update is encoded against a layout that both ends already hold (the global model of the
// round), so names and shapes never travel, only values:
//
//   header  "FSUP" | u8 version | u8 binary encoding | u8 float encoding | u8 0
//           | u32 tensor count | u64 layout fingerprint | u64 payload bytes | u8[32] SHA-256
//   payload one block per tensor, in layout order; its size follows from the encoding and the
//           tensor's element count n alone:
//     binary (kBinary) tensors     sign1          ceil(n/8)        signs, LSB first, 1 = +1
//                                  sign1_scaled   4 + ceil(n/8)    f32 mean|w|, then signs
//                                  q8_delta       8 + n            q8 of (trained - reference)
//                                  f32            4n               latent weights as they are
//     float and BN-stat tensors    f32            4n
//                                  f16            2n               round to nearest even
//                                  q8             8 + n            q8 of the values
//     BN statistics (kStat)        f32            4n               whatever the float encoding
//   q8 block = f32 lo | f32 step | n u8 codes; value = lo + code * step, with lo = min and
//   step = (max - min) / 255. Codes are rounded stochastically (code = floor(t + u), u uniform
//   in [0,1) from a generator seeded by `seed` and the tensor index), so E[decode(encode(x))] = x
//   and |decode(encode(x)) - x| < step. A tensor holding NaN/Inf is sent as lo = NaN and decodes
//   to NaN, so that the aggregators' finiteness check rejects it as it would in f32.
//   BN running statistics (kStat) always travel as f32: a running-variance tensor of a trained
//   BinaryDenseNet spans 0.1 to tens of thousands, so a linear 8-bit grid rounds most channels'
//   variances to 0 (a sign1+q8 federation stayed at chance) and f16 overflows to Inf (bdn28 on
//   wbc-pbc: every update refused). They are 19,008 values in bdn28: 76 KB.
//
// Decoding (sign1 -> +-1, sign1_scaled -> +-scale) checks magic, version, encoding ids, the
// tensor count and layout fingerprint against `layout`, the payload length against the size the
// layout implies (before touching any value) and the checksum: anything wrong is kCorrupt.
// q8_delta adds the decoded delta to `layout`'s values, so the coordinator must pass exactly
// the model the site was given as reference (the full-precision global, not a sign1 downlink).
//
// Thread-safety: free functions without shared state; reentrant. Ownership: inputs are
// borrowed for the call; results are returned by value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "models/model_state.h"

namespace fedsmear {

inline constexpr uint8_t kCodecVersion = 2;  // 2: BN statistics always f32
inline constexpr size_t kCodecHeaderBytes = 4 + 4 + 4 + 8 + 8 + 32;  // 60

enum class BinaryEncoding : uint8_t { kSign1 = 0, kSign1Scaled = 1, kQ8Delta = 2, kF32 = 3 };
enum class FloatEncoding : uint8_t { kF32 = 0, kF16 = 1, kQ8 = 2 };

struct CodecSpec {
  BinaryEncoding binary = BinaryEncoding::kF32;
  FloatEncoding floats = FloatEncoding::kF32;
  bool operator==(const CodecSpec& o) const { return binary == o.binary && floats == o.floats; }
};

const char* BinaryEncodingName(BinaryEncoding e);  // sign1 | sign1_scaled | q8_delta | f32
const char* FloatEncodingName(FloatEncoding e);    // f32 | f16 | q8

// "<binary>+<floats>", e.g. "sign1+f16"; a lone binary name means "<name>+f32" ("f32" is
// f32+f32). CodecSpecName gives the canonical form ("f32" for f32+f32), which parses back.
Result<CodecSpec> ParseCodecSpec(std::string_view text);
std::string CodecSpecName(const CodecSpec& spec);

// Every combination, binary-major (4 x 3 = 12), for tests, benchmarks and tools.
std::vector<CodecSpec> AllCodecSpecs();

// Exact size of EncodeUpdate's output for a state of this layout.
size_t EncodedUpdateSize(const ModelState& layout, const CodecSpec& spec);

// Encodes `trained`. Preconditions (programming errors, std::invalid_argument otherwise): every
// tensor holds NumElements(shape) values and, for q8_delta, `reference` is non-null with the
// same layout. Deterministic for a given seed.
std::string EncodeUpdate(const ModelState& trained, const ModelState* reference,
                         const CodecSpec& spec, uint64_t seed);

// Decodes into a state with `layout`'s metadata, names, shapes and kinds. Only q8_delta reads
// `layout`'s values (InvalidArgument when a binary tensor lacks them); bad bytes are kCorrupt.
Result<ModelState> DecodeUpdate(std::string_view bytes, const ModelState& layout);

// A validated view of encoded bytes (header, fingerprint, sizes and checksum checked), for
// consumers that read blocks directly (coordinator/vote.h counts sign bits without unpacking).
// `blocks[i]` is tensor i's block; the view borrows `bytes`.
struct EncodedUpdateView {
  CodecSpec spec;
  std::vector<std::string_view> blocks;
};
Result<EncodedUpdateView> ParseEncodedUpdate(std::string_view bytes, const ModelState& layout);

// Decodes one validated block into `out` (NumElements values). `reference` is the layout
// tensor (its values are the reference for q8_delta).
void DecodeBlock(const CodecSpec& spec, const NamedTensor& reference, std::string_view block,
                 float* out);

// 64-bit fingerprint of the layout: architecture, classes, tensor names, kinds and shapes.
uint64_t LayoutFingerprint(const ModelState& layout);

}  // namespace fedsmear
