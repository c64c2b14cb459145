// f16 (trainable floats, both ways): IEEE half precision, round to nearest even, 2 bytes per
// value, little-endian.
#include "models/codecs/codec_registry.h"
#include "models/codecs/primitives.h"

namespace fedsmear {
namespace {

size_t Bytes(int64_t n) { return 2 * static_cast<size_t>(n); }

void Encode(const float* x, const BlockArgs& a, char* out) {
  for (int64_t k = 0; k < a.n; ++k) {
    const uint16_t h = FloatToHalf(x[k]);
    out[2 * k] = static_cast<char>(h & 0xff);
    out[2 * k + 1] = static_cast<char>(h >> 8);
  }
}

void Decode(const char* block, const BlockArgs& a, float* out) {
  const uint8_t* h = reinterpret_cast<const uint8_t*>(block);
  for (int64_t k = 0; k < a.n; ++k) {
    out[k] = HalfToFloat(static_cast<uint16_t>(h[2 * k] | (h[2 * k + 1] << 8)));
  }
}

}  // namespace

TensorCodec F16Entry() {
  TensorCodec c;
  c.name = "f16";
  c.help = "half-precision floats (BN statistics stay f32)";
  c.uses = {{CodecDirection::kUplink, CodecSlot::kFloats, 1},
            {CodecDirection::kDownlink, CodecSlot::kFloats, 1}};
  c.bytes = Bytes;
  c.encode = Encode;
  c.decode = Decode;
  return c;
}

}  // namespace fedsmear
