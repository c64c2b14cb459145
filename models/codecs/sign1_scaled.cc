// sign1_scaled (uplink, binary weights): f32 scale = mean |w| (at least 1e-6; NaN when a weight
// is NaN, so that the finiteness checks refuse it), then the signs as in sign1; decodes to
// +-scale. A negative scale is corrupt.
#include <cmath>
#include <cstring>
#include <limits>

#include "common/le_bytes.h"
#include "models/codecs/codec_registry.h"
#include "models/codecs/primitives.h"

namespace fedsmear {
namespace {

size_t Bytes(int64_t n) { return 4 + static_cast<size_t>((n + 7) / 8); }

void Encode(const float* x, const BlockArgs& a, char* out) {
  float scale = SignScale(x, a.n);
  if (std::isnan(scale)) scale = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(out, &scale, 4);
  PackSigns(x, a.n, reinterpret_cast<uint8_t*>(out + 4));
}

Status Check(const char* block, const BlockArgs& a) {
  if (LoadLeF32(block) < 0) return Corrupt("negative sign scale in " + std::string(a.tensor));
  return Status::Ok();
}

void Decode(const char* block, const BlockArgs& a, float* out) {
  UnpackSignBits(reinterpret_cast<const uint8_t*>(block + 4), a.n, LoadLeF32(block), out);
}

}  // namespace

TensorCodec Sign1ScaledEntry() {
  TensorCodec c;
  c.name = "sign1_scaled";
  c.help = "signs of the binary weights plus one f32 scale (mean |w|) per tensor";
  c.uses = {{CodecDirection::kUplink, CodecSlot::kBinary, 1}};
  c.signs = {true, 4};
  c.bytes = Bytes;
  c.encode = Encode;
  c.check = Check;
  c.decode = Decode;
  return c;
}

}  // namespace fedsmear
