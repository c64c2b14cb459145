// q8 (trainable floats, both ways): 8-bit linear quantization (models/q8.h), rounded
// stochastically on uplinks (the weighted mean of the sites' values stays unbiased) and to the
// nearest on downlinks (every site receives the same bytes).
#include "models/codecs/codec_registry.h"
#include "models/q8.h"

namespace fedsmear {
namespace {

size_t Bytes(int64_t n) { return Q8Bytes(n); }

void Encode(const float* x, const BlockArgs& a, char* out) {
  if (a.direction == CodecDirection::kUplink) {
    EncodeQ8(x, nullptr, a.n, Q8Rounding::kStochastic, a.seed, out);
  } else {
    EncodeQ8(x, nullptr, a.n, Q8Rounding::kNearest, 0, out);
  }
}

Status Check(const char* block, const BlockArgs& a) {
  if (!Q8HeadValid(block)) return Corrupt("bad q8 range in " + std::string(a.tensor));
  return Status::Ok();
}

void Decode(const char* block, const BlockArgs& a, float* out) {
  DecodeQ8(block, nullptr, a.n, out);
}

}  // namespace

TensorCodec Q8Entry() {
  TensorCodec c;
  c.name = "q8";
  c.help = "8-bit floats: f32 min and step, then one byte per value";
  c.uses = {{CodecDirection::kUplink, CodecSlot::kFloats, 2},
            {CodecDirection::kDownlink, CodecSlot::kFloats, 2}};
  c.bytes = Bytes;
  c.encode = Encode;
  c.check = Check;
  c.decode = Decode;
  return c;
}

}  // namespace fedsmear
