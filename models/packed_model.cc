#include "models/packed_model.h"

#include <cstring>
#include <optional>
#include <stdexcept>

#include "common/sha256.h"

namespace fedsmear {
namespace {

constexpr char kMagic[8] = {'F', 'S', 'M', 'O', 'D', 'E', 'L', '\0'};
constexpr size_t kHeaderBytes = 8 + 4 + 32;
constexpr uint32_t kMaxNames = 100000;
constexpr uint32_t kMaxTensors = 100000;
constexpr uint32_t kMaxDims = 8;
constexpr uint32_t kMaxString = 4096;

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) U8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void I64(int64_t v) {
    uint64_t u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) U8(static_cast<uint8_t>(u >> (8 * i)));
  }
  void F32(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    U32(u);
  }
  void Str(const std::string& s) {
    U32(static_cast<uint32_t>(s.size()));
    out_ += s;
  }
  void Bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

// Bounds-checked reader: every accessor fails (sticky) instead of reading past the end.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  size_t remaining() const { return in_.size() - pos_; }
  const uint8_t* Take(size_t n) {
    if (!ok_ || n > remaining()) {
      ok_ = false;
      return nullptr;
    }
    const uint8_t* p = reinterpret_cast<const uint8_t*>(in_.data()) + pos_;
    pos_ += n;
    return p;
  }
  uint8_t U8() {
    const uint8_t* p = Take(1);
    return p ? p[0] : 0;
  }
  uint32_t U32() {
    const uint8_t* p = Take(4);
    if (!p) return 0;
    return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
  }
  int64_t I64() {
    const uint8_t* p = Take(8);
    uint64_t u = 0;
    for (int i = 0; p && i < 8; ++i) u |= static_cast<uint64_t>(p[i]) << (8 * i);
    return static_cast<int64_t>(u);
  }
  float F32() {
    uint32_t u = U32();
    float v;
    std::memcpy(&v, &u, 4);
    return v;
  }
  std::string Str() {
    uint32_t n = U32();
    if (n > kMaxString) ok_ = false;
    const uint8_t* p = Take(n);
    return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

constexpr CodecDirection kDown = CodecDirection::kDownlink;
constexpr uint8_t kFormat1MaxFloatsId = 1;  // format 1: f32 (0) and f16 (1)

// The codec a tensor's block is in. Format 1 sent BN statistics in the floats codec too (f32
// or f16); format 2 always as f32.
const TensorCodec& CodecOf(TensorKind kind, const TensorCodec& binary, const TensorCodec& floats,
                           uint32_t version) {
  if (version < 2 && kind == TensorKind::kStat) return floats;
  return CodecForKind(kind, binary, floats);
}

void WriteTensor(Writer& w, const NamedTensor& t, const PackOptions& o) {
  w.Str(t.name);
  w.U8(static_cast<uint8_t>(t.kind));
  w.U32(static_cast<uint32_t>(t.shape.size()));
  for (int64_t d : t.shape) w.I64(d);
  const TensorCodec& codec = CodecOf(t.kind, *o.binary, *o.floats, kPackedFormatVersion);
  BlockArgs args;
  args.n = static_cast<int64_t>(t.values.size());
  args.direction = kDown;
  args.tensor = t.name;
  std::string& out = w.out();
  const size_t at = out.size();
  out.resize(at + codec.bytes(args.n));
  codec.encode(t.values.data(), args, &out[at]);
}

Status ReadTensor(Reader& r, const TensorCodec& binary, const TensorCodec& floats,
                  uint32_t version, uint64_t* budget, NamedTensor* t) {
  t->name = r.Str();
  uint8_t kind = r.U8();
  if (kind > static_cast<uint8_t>(TensorKind::kStat)) return Corrupt("bad tensor kind");
  t->kind = static_cast<TensorKind>(kind);
  uint32_t dims = r.U32();
  if (!r.ok() || dims > kMaxDims) return Corrupt("bad tensor header");
  int64_t n = 1;
  for (uint32_t i = 0; i < dims; ++i) {
    int64_t d = r.I64();
    if (d < 0 || d > (int64_t{1} << 32) || (d > 0 && n > (int64_t{1} << 34) / d)) {
      return Corrupt("tensor " + t->name + " has an absurd shape");
    }
    t->shape.push_back(d);
    n *= d;
  }
  if (!r.ok()) return Corrupt("truncated tensor header");
  const TensorCodec& codec = CodecOf(t->kind, binary, floats, version);
  const size_t need = codec.bytes(n);
  if (need > r.remaining()) return Corrupt("tensor " + t->name + " is truncated");
  if (static_cast<uint64_t>(n) > *budget) {  // sign1 expands 32x: check before allocating
    return ResourceExhausted("packed model unpacks to more values than the limit allows (at " +
                             t->name + ")");
  }
  *budget -= static_cast<uint64_t>(n);
  t->values.resize(static_cast<size_t>(n));
  BlockArgs args;
  args.n = n;
  args.direction = kDown;
  args.tensor = t->name;
  const char* block = reinterpret_cast<const char*>(r.Take(need));
  if (codec.check) RETURN_IF_ERROR(codec.check(block, args));
  codec.decode(block, args, t->values.data());
  return Status::Ok();
}

}  // namespace

std::string PackModel(const ModelState& state, const PackOptions& options) {
  const std::optional<uint8_t> bin_id =
      options.binary ? options.binary->WireId(kDown, CodecSlot::kBinary) : std::nullopt;
  const std::optional<uint8_t> flt_id =
      options.floats ? options.floats->WireId(kDown, CodecSlot::kFloats) : std::nullopt;
  if (!bin_id || !flt_id) throw std::invalid_argument("PackModel: no downlink codec");
  Writer w;
  w.Str(state.meta.arch);
  w.U32(static_cast<uint32_t>(state.meta.classes));
  w.U32(static_cast<uint32_t>(state.meta.input_size));
  w.U32(static_cast<uint32_t>(state.meta.class_names.size()));
  for (const auto& n : state.meta.class_names) w.Str(n);
  w.U8(*bin_id);
  w.U8(*flt_id);
  w.U32(static_cast<uint32_t>(state.tensors.size()));
  for (const NamedTensor& t : state.tensors) WriteTensor(w, t, options);
  Digest256 digest = Sha256Of(w.out());
  Writer head;
  head.Bytes(kMagic, sizeof(kMagic));
  head.U32(kPackedFormatVersion);
  head.Bytes(digest.data(), digest.size());
  return head.out() + w.out();
}

Result<ModelState> UnpackModel(std::string_view bytes, uint64_t max_values) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return Corrupt("not a fedsmear packed model (bad magic or too short)");
  }
  Reader head(bytes.substr(0, kHeaderBytes));
  head.Take(sizeof(kMagic));
  uint32_t version = head.U32();
  if (version < 1 || version > kPackedFormatVersion) {
    return Corrupt("packed model format version " + std::to_string(version) +
                   " is not supported (this build reads " +
                   std::to_string(kPackedFormatVersion) + ")");
  }
  std::string_view payload = bytes.substr(kHeaderBytes);
  Digest256 digest = Sha256Of(payload);
  if (std::memcmp(digest.data(), bytes.data() + 12, 32) != 0) {
    return Corrupt("packed model checksum mismatch (truncated or corrupted file)");
  }
  Reader r(payload);
  ModelState state;
  state.meta.arch = r.Str();
  state.meta.classes = static_cast<int>(r.U32());
  state.meta.input_size = static_cast<int>(r.U32());
  uint32_t names = r.U32();
  if (!r.ok() || names > kMaxNames) return Corrupt("bad model header");
  for (uint32_t i = 0; i < names && r.ok(); ++i) state.meta.class_names.push_back(r.Str());
  uint8_t bc = r.U8();
  uint8_t fc = r.U8();
  uint32_t count = r.U32();
  const TensorCodec* binary = Codecs().FindId(kDown, CodecSlot::kBinary, bc);
  const TensorCodec* floats = Codecs().FindId(kDown, CodecSlot::kFloats, fc);
  if (!r.ok() || !binary || !floats || (version < 2 && fc > kFormat1MaxFloatsId) ||
      count > kMaxTensors) {
    return Corrupt("bad model header");
  }
  state.tensors.resize(count);
  uint64_t budget = max_values;
  for (NamedTensor& t : state.tensors) {
    RETURN_IF_ERROR(ReadTensor(r, *binary, *floats, version, &budget, &t));
  }
  if (!r.ok() || r.remaining() != 0) return Corrupt("packed model has trailing or missing bytes");
  return state;
}

const std::vector<std::string>& DownlinkCodecNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const TensorCodec* b : Codecs().List(kDown, CodecSlot::kBinary)) {
      for (const TensorCodec* f : Codecs().List(kDown, CodecSlot::kFloats)) {
        out.push_back(f == &Codecs().f32() ? b->name : b->name + "+" + f->name);
      }
    }
    return out;
  }();
  return names;
}

Result<PackOptions> ParseDownlinkCodec(std::string_view codec) {
  std::string names;
  for (const std::string& name : DownlinkCodecNames()) {
    if (codec == name) {
      const size_t plus = codec.find('+');
      PackOptions o;
      o.binary = Codecs().Find(kDown, CodecSlot::kBinary, codec.substr(0, plus));
      o.floats = plus == std::string_view::npos
                     ? &Codecs().f32()
                     : Codecs().Find(kDown, CodecSlot::kFloats, codec.substr(plus + 1));
      return o;
    }
    names += (names.empty() ? "" : " | ") + name;
  }
  return InvalidArgument("unknown downlink codec '" + std::string(codec) + "' (" + names + ")");
}

PackOptions LosslessPackOptions() {
  PackOptions o;
  o.binary = Codecs().Find(kDown, CodecSlot::kBinary, "f32");
  o.floats = &Codecs().f32();
  return o;
}

}  // namespace fedsmear
