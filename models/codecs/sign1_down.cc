// sign1 (downlink, binary weights): how the packed model format sends binary weights, f32
// scale = mean |w| (at least 1e-6) then the signs, LSB first, 1 = +; unpacks to +-scale, latent
// weights of a sensible magnitude. A scale that is negative or not finite is corrupt. The
// uplink's sign1 (sign1.cc) sends the bits alone.
#include <cmath>
#include <cstring>

#include "common/le_bytes.h"
#include "models/codecs/codec_registry.h"
#include "models/codecs/primitives.h"

namespace fedsmear {
namespace {

size_t Bytes(int64_t n) { return 4 + static_cast<size_t>((n + 7) / 8); }

void Encode(const float* x, const BlockArgs& a, char* out) {
  const float scale = SignScale(x, a.n);
  std::memcpy(out, &scale, 4);
  PackSigns(x, a.n, reinterpret_cast<uint8_t*>(out + 4));
}

Status Check(const char* block, const BlockArgs& a) {
  const float scale = LoadLeF32(block);
  if (!std::isfinite(scale) || scale < 0) {
    return Corrupt("bad sign scale in " + std::string(a.tensor));
  }
  return Status::Ok();
}

void Decode(const char* block, const BlockArgs& a, float* out) {
  UnpackSigns(reinterpret_cast<const uint8_t*>(block + 4), a.n, LoadLeF32(block), out);
}

}  // namespace

TensorCodec Sign1DownlinkEntry() {
  TensorCodec c;
  c.name = "sign1";
  c.help = "signs of the binary weights, 1 bit each, plus one f32 scale (mean |w|) per tensor";
  c.uses = {{CodecDirection::kDownlink, CodecSlot::kBinary, 0}};
  c.signs = {true, 4};
  c.bytes = Bytes;
  c.encode = Encode;
  c.check = Check;
  c.decode = Decode;
  return c;
}

}  // namespace fedsmear
