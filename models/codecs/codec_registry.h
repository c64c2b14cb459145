// The codec registry: every way a model's values travel, by name, with what each codec declares
// about itself. Two kinds of entries:
//
//   TensorCodec  one block encoding of one tensor (sign1, sign1_scaled, q8_delta, f32, f16, q8):
//                its byte size for n values, encode, check and decode, where it may be chosen
//                (direction and slot) with the u8 id its header byte carries there, and what
//                readers may rely on (a packed sign bitmap and where its bits start).
//   FrameCodec   a transform of a whole uplink payload (zstd), chosen by a name suffix
//                ("sign1+q8+zstd") and carried in the uplink header's frame byte.
//
// The containers that use them are models/codec.h (uplink updates: "<binary>[+<floats>][+<frame>]")
// and models/packed_model.h (downlink models: "<binary>[+<floats>]"). Each codec is one file in
// models/codecs/ defining its entry function, plus its line in models/codecs/registry.cc;
// tests/models/codecs/registry_test.cc round-trips every registered codec on its own.
//
// A tensor's codec follows from its kind (CodecForKind): binary weights take the binary slot's
// codec, trainable floats the floats slot's, BN running statistics are always f32 (their
// variances outgrow f16 and a linear 8-bit grid).
//
// Thread-safety: the registry is immutable after its first use (a function-local static); every
// function is reentrant and every codec function is pure. Ownership: entries are values owned by
// the registry for the life of the program, so `const TensorCodec*` handles never dangle; codec
// functions borrow their buffers for the call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "models/model_state.h"

namespace fedsmear {

enum class CodecDirection : uint8_t { kUplink, kDownlink };
// Which of a header's two codec bytes an entry fills: the binary weights' or the float tensors'.
enum class CodecSlot : uint8_t { kBinary, kFloats };

const char* CodecDirectionName(CodecDirection direction);  // "uplink" | "downlink"
const char* CodecSlotName(CodecSlot slot);                 // "binary" | "floats"

// Where a tensor codec may be chosen, and the id its header byte carries there.
struct CodecUse {
  CodecDirection direction;
  CodecSlot slot;
  uint8_t wire_id;
};

// For binary-weight codecs whose block holds the signs as a bitmap, so that a reader can count
// sign votes without decoding (coordinator/vote.cc): ceil(n/8) bits, LSB first, 1 = +, after
// `bits_at` bytes that hold f32 values (a scale), which a valid update keeps finite.
struct SignLayout {
  bool packed = false;
  size_t bits_at = 0;
};

// One tensor as a codec's functions see it.
struct BlockArgs {
  int64_t n = 0;                     // values in the tensor
  const float* reference = nullptr;  // n reference values when the codec needs_reference
  CodecDirection direction = CodecDirection::kUplink;
  uint64_t seed = 0;                 // per-tensor seed for stochastic rounding
  std::string_view tensor;           // its name, for messages
};

struct TensorCodec {
  std::string name;  // as users write it: no '+'
  std::string help;  // one line
  std::vector<CodecUse> uses;
  bool needs_reference = false;  // encodes and decodes relative to the reference values
  SignLayout signs;
  size_t (*bytes)(int64_t n) = nullptr;  // exact block size for n values
  // Writes bytes(n) bytes to `out` from x[0..n). Deterministic for given args.
  void (*encode)(const float* x, const BlockArgs& args, char* out) = nullptr;
  // Checks a block of bytes(n) bytes before it is decoded: Corrupt naming args.tensor when its
  // content is not one encode can write. Null: every block of the right size is valid.
  Status (*check)(const char* block, const BlockArgs& args) = nullptr;
  // Decodes a checked block into out[0..n).
  void (*decode)(const char* block, const BlockArgs& args, float* out) = nullptr;

  // The wire id in this direction and slot, or nothing when the codec is not offered there.
  std::optional<uint8_t> WireId(CodecDirection direction, CodecSlot slot) const;
};

// Where a frame may be chosen and its id in the header's frame byte (0 means no frame).
struct FrameUse {
  CodecDirection direction;
  uint8_t wire_id;
};

struct FrameCodec {
  std::string name;  // the name's last '+' part, e.g. "zstd"
  std::string help;
  std::vector<FrameUse> uses;
  size_t (*max_bytes)(size_t payload) = nullptr;  // bound of encode's output size
  // The framed bytes of `payload`. Deterministic for a given library build.
  std::string (*encode)(std::string_view payload) = nullptr;
  // The payload of `framed`, which must be exactly `payload_bytes` long (the size the layout
  // implies): anything else, checked before allocating, is Corrupt.
  Result<std::string> (*decode)(std::string_view framed, size_t payload_bytes) = nullptr;

  std::optional<uint8_t> WireId(CodecDirection direction) const;
};

class CodecRegistry {
 public:
  // The registry of these entries, in this order, or InvalidArgument naming the first problem:
  // an empty name or help, a '+' in a name, a missing function, a duplicate name or wire id in
  // one direction and slot (frames: direction), frame id 0, a frame named like a tensor codec,
  // a downlink frame (the packed model format has no frame byte), or no f32 codec serving the
  // floats slot both ways (BN statistics always travel as f32).
  static Result<CodecRegistry> Build(std::vector<TensorCodec> tensors,
                                     std::vector<FrameCodec> frames);

  const std::vector<TensorCodec>& tensors() const { return tensors_; }
  const std::vector<FrameCodec>& frames() const { return frames_; }
  const TensorCodec& f32() const { return tensors_[f32_]; }

  // Lookups in one direction and slot; nullptr when nothing matches.
  const TensorCodec* Find(CodecDirection d, CodecSlot s, std::string_view name) const;
  const TensorCodec* FindId(CodecDirection d, CodecSlot s, uint8_t wire_id) const;
  // The codecs offered there, in registration order.
  std::vector<const TensorCodec*> List(CodecDirection d, CodecSlot s) const;

  const FrameCodec* FindFrame(CodecDirection d, std::string_view name) const;
  const FrameCodec* FindFrameId(CodecDirection d, uint8_t wire_id) const;
  std::vector<const FrameCodec*> ListFrames(CodecDirection d) const;

 private:
  CodecRegistry() = default;
  std::vector<TensorCodec> tensors_;
  std::vector<FrameCodec> frames_;
  size_t f32_ = 0;
};

// Every registered codec (models/codecs/registry.cc).
const CodecRegistry& Codecs();

// The codec a tensor of `kind` travels in under these slot choices.
const TensorCodec& CodecForKind(TensorKind kind, const TensorCodec& binary,
                                const TensorCodec& floats);

}  // namespace fedsmear
