// f32 (every slot, both ways): the values as they are, 4 bytes each, little-endian (x86 and ARM
// are). The binary slot's f32 is the float latent weights; BN statistics always travel as f32.
#include <cstring>

#include "models/codecs/codec_registry.h"

namespace fedsmear {
namespace {

size_t Bytes(int64_t n) { return 4 * static_cast<size_t>(n); }

void Encode(const float* x, const BlockArgs& a, char* out) {
  if (a.n > 0) std::memcpy(out, x, Bytes(a.n));  // an empty tensor's x may be null
}

void Decode(const char* block, const BlockArgs& a, float* out) {
  if (a.n > 0) std::memcpy(out, block, Bytes(a.n));  // out may be null when n == 0
}

}  // namespace

TensorCodec F32Entry() {
  TensorCodec c;
  c.name = "f32";
  c.help = "32-bit floats, lossless (binary slot: the latent weights)";
  c.uses = {{CodecDirection::kUplink, CodecSlot::kBinary, 3},
            {CodecDirection::kUplink, CodecSlot::kFloats, 0},
            {CodecDirection::kDownlink, CodecSlot::kBinary, 1},
            {CodecDirection::kDownlink, CodecSlot::kFloats, 0}};
  c.bytes = Bytes;
  c.encode = Encode;
  c.decode = Decode;
  return c;
}

}  // namespace fedsmear
