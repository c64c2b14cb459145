// sign1 (uplink, binary weights): the signs alone, ceil(n/8) bytes, LSB first, 1 = +1; decodes
// to +-1. The sign vote (coordinator/vote.cc) counts its bits without decoding.
#include "models/codecs/codec_registry.h"
#include "models/codecs/primitives.h"

namespace fedsmear {
namespace {

size_t Bytes(int64_t n) { return static_cast<size_t>((n + 7) / 8); }

void Encode(const float* x, const BlockArgs& a, char* out) {
  PackSigns(x, a.n, reinterpret_cast<uint8_t*>(out));
}

void Decode(const char* block, const BlockArgs& a, float* out) {
  UnpackSignBits(reinterpret_cast<const uint8_t*>(block), a.n, 1.f, out);
}

}  // namespace

TensorCodec Sign1Entry() {
  TensorCodec c;
  c.name = "sign1";
  c.help = "signs of the binary weights, 1 bit each (decoded as +-1)";
  c.uses = {{CodecDirection::kUplink, CodecSlot::kBinary, 0}};
  c.signs = {true, 0};
  c.bytes = Bytes;
  c.encode = Encode;
  c.decode = Decode;
  return c;
}

}  // namespace fedsmear
