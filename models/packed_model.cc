#include "models/packed_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/sha256.h"
#include "models/q8.h"

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

// Which tensors travel as fp16 under FloatCodec::kF16: trainable floats only since format 2.
// BN running statistics stay fp32 (a bdn28 running variance exceeds fp16's 65,504 on real
// data); format 1 also halved them and is still read.
bool HalfTensor(TensorKind kind, FloatCodec fc, uint32_t version) {
  if (fc != FloatCodec::kF16 || kind == TensorKind::kBinary) return false;
  return version < 2 || kind == TensorKind::kFloat;
}

// Under FloatCodec::kQ8 only trainable floats are quantized.
bool Q8Tensor(TensorKind kind, FloatCodec fc) {
  return fc == FloatCodec::kQ8 && kind == TensorKind::kFloat;
}

void WriteQ8(Writer& w, const std::vector<float>& v) {
  std::string& out = w.out();
  const size_t at = out.size();
  const int64_t n = static_cast<int64_t>(v.size());
  out.resize(at + Q8Bytes(n));
  EncodeQ8(v.data(), nullptr, n, Q8Rounding::kNearest, 0, &out[at]);
}

Status ReadQ8(Reader& r, const std::string& name, std::vector<float>* v) {
  const int64_t n = static_cast<int64_t>(v->size());
  const char* block = reinterpret_cast<const char*>(r.Take(Q8Bytes(n)));
  if (!block) return Corrupt("tensor " + name + " is truncated");
  if (!Q8HeadValid(block)) return Corrupt("bad q8 range in " + name);
  DecodeQ8(block, nullptr, n, v->data());
  return Status::Ok();
}

void WriteTensor(Writer& w, const NamedTensor& t, const PackOptions& o) {
  w.Str(t.name);
  w.U8(static_cast<uint8_t>(t.kind));
  w.U32(static_cast<uint32_t>(t.shape.size()));
  for (int64_t d : t.shape) w.I64(d);
  const int64_t n = static_cast<int64_t>(t.values.size());
  if (t.kind == TensorKind::kBinary && o.binary == BinaryCodec::kSign1) {
    double sum = 0;
    for (float v : t.values) sum += std::fabs(v);
    // The scale stays positive so that -0.0 never stands for a negative sign.
    w.F32(std::max(n ? static_cast<float>(sum / n) : 0.f, 1e-6f));
    std::string& out = w.out();
    size_t at = out.size();
    out.resize(at + static_cast<size_t>((n + 7) / 8));
    PackSigns(t.values.data(), n, reinterpret_cast<uint8_t*>(&out[at]));
  } else if (Q8Tensor(t.kind, o.floats)) {
    WriteQ8(w, t.values);
  } else if (HalfTensor(t.kind, o.floats, kPackedFormatVersion)) {
    for (float v : t.values) {
      uint16_t h = FloatToHalf(v);
      w.U8(static_cast<uint8_t>(h));
      w.U8(static_cast<uint8_t>(h >> 8));
    }
  } else {
    w.Bytes(t.values.data(), static_cast<size_t>(n) * 4);  // x86/ARM are little-endian
  }
}

Status ReadTensor(Reader& r, BinaryCodec bc, FloatCodec fc, uint32_t version, uint64_t* budget,
                  NamedTensor* t) {
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
  const bool signs = t->kind == TensorKind::kBinary && bc == BinaryCodec::kSign1;
  const bool half = HalfTensor(t->kind, fc, version);
  const bool q8 = Q8Tensor(t->kind, fc);
  size_t need = signs ? 4 + static_cast<size_t>((n + 7) / 8)
                : q8  ? Q8Bytes(n)
                      : static_cast<size_t>(n) * (half ? 2 : 4);
  if (need > r.remaining()) return Corrupt("tensor " + t->name + " is truncated");
  if (static_cast<uint64_t>(n) > *budget) {  // sign1 expands 32x: check before allocating
    return ResourceExhausted("packed model unpacks to more values than the limit allows (at " +
                             t->name + ")");
  }
  *budget -= static_cast<uint64_t>(n);
  t->values.resize(static_cast<size_t>(n));
  if (signs) {
    float scale = r.F32();
    if (!std::isfinite(scale) || scale < 0) return Corrupt("bad sign scale in " + t->name);
    UnpackSigns(r.Take(static_cast<size_t>((n + 7) / 8)), n, scale, t->values.data());
  } else if (q8) {
    RETURN_IF_ERROR(ReadQ8(r, t->name, &t->values));
  } else if (half) {
    const uint8_t* p = r.Take(static_cast<size_t>(n) * 2);
    for (int64_t i = 0; i < n; ++i) t->values[i] = HalfToFloat(p[2 * i] | (p[2 * i + 1] << 8));
  } else {
    const uint8_t* p = r.Take(static_cast<size_t>(n) * 4);
    if (n > 0) std::memcpy(t->values.data(), p, static_cast<size_t>(n) * 4);  // data() may be null
  }
  return Status::Ok();
}

}  // namespace

std::string PackModel(const ModelState& state, const PackOptions& options) {
  Writer w;
  w.Str(state.meta.arch);
  w.U32(static_cast<uint32_t>(state.meta.classes));
  w.U32(static_cast<uint32_t>(state.meta.input_size));
  w.U32(static_cast<uint32_t>(state.meta.class_names.size()));
  for (const auto& n : state.meta.class_names) w.Str(n);
  w.U8(static_cast<uint8_t>(options.binary));
  w.U8(static_cast<uint8_t>(options.floats));
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
  const uint8_t max_fc = version < 2 ? 1 : static_cast<uint8_t>(FloatCodec::kQ8);
  if (!r.ok() || bc > 1 || fc > max_fc || count > kMaxTensors) return Corrupt("bad model header");
  state.tensors.resize(count);
  uint64_t budget = max_values;
  for (NamedTensor& t : state.tensors) {
    RETURN_IF_ERROR(ReadTensor(r, static_cast<BinaryCodec>(bc), static_cast<FloatCodec>(fc),
                               version, &budget, &t));
  }
  if (!r.ok() || r.remaining() != 0) return Corrupt("packed model has trailing or missing bytes");
  return state;
}

uint16_t FloatToHalf(float value) {
  uint32_t x;
  std::memcpy(&x, &value, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t exp = (x >> 23) & 0xffu;
  uint32_t mant = x & 0x7fffffu;
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0));  // Inf/NaN
  int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> Inf
  if (e <= 0) {                                                 // subnormal or zero
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) ++half;  // may carry into exponent: ok
  return static_cast<uint16_t>(half);
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

void PackSigns(const float* values, int64_t n, uint8_t* out) {
  int64_t full = n / 8;
  for (int64_t b = 0; b < full; ++b) {
    const float* v = values + 8 * b;
    uint8_t byte = 0;
    for (int i = 0; i < 8; ++i) byte |= static_cast<uint8_t>((v[i] >= 0.f) << i);
    out[b] = byte;
  }
  if (n % 8) {
    uint8_t byte = 0;
    for (int64_t i = 8 * full; i < n; ++i) byte |= static_cast<uint8_t>((values[i] >= 0.f) << (i % 8));
    out[full] = byte;
  }
}

void UnpackSigns(const uint8_t* bits, int64_t n, float scale, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = ((bits[i >> 3] >> (i & 7)) & 1) ? scale : -scale;
}

namespace {

// The downlink codec registry: every codec_down name and what it packs.
struct Downlink {
  const char* name;
  PackOptions options;
};
constexpr Downlink kDownlinks[] = {
    {"f32", {BinaryCodec::kLatentF32, FloatCodec::kF32}},
    {"f32+f16", {BinaryCodec::kLatentF32, FloatCodec::kF16}},
    {"f32+q8", {BinaryCodec::kLatentF32, FloatCodec::kQ8}},
    {"sign1", {BinaryCodec::kSign1, FloatCodec::kF32}},
    {"sign1+f16", {BinaryCodec::kSign1, FloatCodec::kF16}},
    {"sign1+q8", {BinaryCodec::kSign1, FloatCodec::kQ8}},
};

}  // namespace

Result<PackOptions> ParseDownlinkCodec(const std::string& codec) {
  std::string names;
  for (const Downlink& d : kDownlinks) {
    if (codec == d.name) return d.options;
    names += (names.empty() ? "" : " | ") + std::string(d.name);
  }
  return InvalidArgument("unknown downlink codec '" + codec + "' (" + names + ")");
}

const std::vector<std::string>& DownlinkCodecNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Downlink& d : kDownlinks) out.emplace_back(d.name);
    return out;
  }();
  return names;
}

}  // namespace fedsmear
