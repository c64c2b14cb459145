// q8_delta (uplink, binary weights): q8 (models/q8.h) of trained - reference with stochastic
// rounding; decodes to reference + delta, so the reader must hold the exact reference the site
// was given (the full-precision global).
#include "models/codecs/codec_registry.h"
#include "models/q8.h"

namespace fedsmear {
namespace {

size_t Bytes(int64_t n) { return Q8Bytes(n); }

void Encode(const float* x, const BlockArgs& a, char* out) {
  EncodeQ8(x, a.reference, a.n, Q8Rounding::kStochastic, a.seed, out);
}

Status Check(const char* block, const BlockArgs& a) {
  if (!Q8HeadValid(block)) return Corrupt("bad q8 range in " + std::string(a.tensor));
  return Status::Ok();
}

void Decode(const char* block, const BlockArgs& a, float* out) {
  DecodeQ8(block, a.reference, a.n, out);
}

}  // namespace

TensorCodec Q8DeltaEntry() {
  TensorCodec c;
  c.name = "q8_delta";
  c.help = "8-bit change of the latent binary weights against the round's global model";
  c.uses = {{CodecDirection::kUplink, CodecSlot::kBinary, 2}};
  c.needs_reference = true;
  c.bytes = Bytes;
  c.encode = Encode;
  c.check = Check;
  c.decode = Decode;
  return c;
}

}  // namespace fedsmear
