#include "models/codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "common/le_bytes.h"
#include "common/sha256.h"
#include "models/packed_model.h"
#include "models/q8.h"

namespace fedsmear {
namespace {

constexpr char kMagic[4] = {'F', 'S', 'U', 'P'};

enum class Block : uint8_t { kSign1, kSign1Scaled, kQ8, kQ8Delta, kF16, kF32 };

Block BlockOf(TensorKind kind, const CodecSpec& spec) {
  if (kind == TensorKind::kBinary) {
    switch (spec.binary) {
      case BinaryEncoding::kSign1: return Block::kSign1;
      case BinaryEncoding::kSign1Scaled: return Block::kSign1Scaled;
      case BinaryEncoding::kQ8Delta: return Block::kQ8Delta;
      case BinaryEncoding::kF32: return Block::kF32;
    }
  }
  // BN running statistics stay f32 under f16 and q8: one running-variance tensor spans 0.1 to
  // tens of thousands (beyond f16's 65,504 on real data), which a linear 8-bit grid rounds to 0
  // for most channels and f16 turns into Inf.
  if (kind == TensorKind::kStat) return Block::kF32;
  switch (spec.floats) {
    case FloatEncoding::kF16: return Block::kF16;
    case FloatEncoding::kQ8: return Block::kQ8;
    case FloatEncoding::kF32: break;
  }
  return Block::kF32;
}

size_t BlockBytes(Block b, int64_t n64) {
  const size_t n = static_cast<size_t>(n64);
  switch (b) {
    case Block::kSign1: return (n + 7) / 8;
    case Block::kSign1Scaled: return 4 + (n + 7) / 8;
    case Block::kQ8:
    case Block::kQ8Delta: return Q8Bytes(n64);
    case Block::kF16: return 2 * n;
    case Block::kF32: return 4 * n;
  }
  return 0;
}

// Same result as UnpackSigns (bit 1 -> +scale, 0 -> -scale), but branch-free on the float's
// bits so that the compiler vectorises it: the decoder's hot loop for sign1 blocks.
void UnpackSignBits(const uint8_t* bits, int64_t n, float scale, float* out) {
  uint32_t magnitude;
  std::memcpy(&magnitude, &scale, 4);
  magnitude &= 0x7fffffffu;
  const int64_t full = n / 8;
  for (int64_t b = 0; b < full; ++b) {
    const uint32_t negative = ~static_cast<uint32_t>(bits[b]);
    uint32_t word[8];
    for (int j = 0; j < 8; ++j) word[j] = magnitude | (((negative >> j) & 1u) << 31);
    std::memcpy(out + 8 * b, word, sizeof(word));
  }
  for (int64_t k = 8 * full; k < n; ++k) {
    const uint32_t word = magnitude | ((~(bits[k >> 3] >> (k & 7)) & 1u) << 31);
    std::memcpy(out + k, &word, 4);
  }
}

uint64_t TensorSeed(uint64_t seed, size_t index) {
  return SplitMix64(seed ^ (0xD1B54A32D192ED03ull * (index + 1))).Next();
}

size_t PayloadBytes(const ModelState& layout, const CodecSpec& spec) {
  size_t total = 0;
  for (const NamedTensor& t : layout.tensors) {
    total += BlockBytes(BlockOf(t.kind, spec), NumElements(t.shape));
  }
  return total;
}

}  // namespace

const char* BinaryEncodingName(BinaryEncoding e) {
  switch (e) {
    case BinaryEncoding::kSign1: return "sign1";
    case BinaryEncoding::kSign1Scaled: return "sign1_scaled";
    case BinaryEncoding::kQ8Delta: return "q8_delta";
    case BinaryEncoding::kF32: return "f32";
  }
  return "unknown";
}

const char* FloatEncodingName(FloatEncoding e) {
  switch (e) {
    case FloatEncoding::kF32: return "f32";
    case FloatEncoding::kF16: return "f16";
    case FloatEncoding::kQ8: return "q8";
  }
  return "unknown";
}

std::vector<CodecSpec> AllCodecSpecs() {
  std::vector<CodecSpec> all;
  for (BinaryEncoding b : {BinaryEncoding::kSign1, BinaryEncoding::kSign1Scaled,
                           BinaryEncoding::kQ8Delta, BinaryEncoding::kF32}) {
    for (FloatEncoding f : {FloatEncoding::kF32, FloatEncoding::kF16, FloatEncoding::kQ8}) {
      all.push_back({b, f});
    }
  }
  return all;
}

Result<CodecSpec> ParseCodecSpec(std::string_view text) {
  const size_t plus = text.find('+');
  std::string_view bin = text.substr(0, plus);
  std::string_view flt = plus == std::string_view::npos ? "f32" : text.substr(plus + 1);
  CodecSpec spec;
  bool bin_ok = false, flt_ok = false;
  for (const CodecSpec& s : AllCodecSpecs()) {
    if (bin == BinaryEncodingName(s.binary)) {
      spec.binary = s.binary;
      bin_ok = true;
    }
    if (flt == FloatEncodingName(s.floats)) {
      spec.floats = s.floats;
      flt_ok = true;
    }
  }
  if (!bin_ok || !flt_ok) {
    return InvalidArgument("unknown codec '" + std::string(text) +
                           "' (expected <sign1|sign1_scaled|q8_delta|f32>[+<f32|f16|q8>])");
  }
  return spec;
}

std::string CodecSpecName(const CodecSpec& spec) {
  if (spec == CodecSpec{}) return "f32";
  return std::string(BinaryEncodingName(spec.binary)) + "+" + FloatEncodingName(spec.floats);
}

uint64_t LayoutFingerprint(const ModelState& layout) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a, 64 bit
  auto mix = [&h](const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001B3ull;
  };
  auto mix_i64 = [&mix](int64_t v) { mix(&v, sizeof(v)); };
  mix(layout.meta.arch.data(), layout.meta.arch.size());
  mix_i64(layout.meta.classes);
  mix_i64(layout.meta.input_size);
  mix_i64(static_cast<int64_t>(layout.tensors.size()));
  for (const NamedTensor& t : layout.tensors) {
    mix_i64(static_cast<int64_t>(t.name.size()));
    mix(t.name.data(), t.name.size());
    mix_i64(static_cast<int64_t>(t.kind));
    mix_i64(static_cast<int64_t>(t.shape.size()));
    for (int64_t d : t.shape) mix_i64(d);
  }
  return h;
}

size_t EncodedUpdateSize(const ModelState& layout, const CodecSpec& spec) {
  return kCodecHeaderBytes + PayloadBytes(layout, spec);
}

std::string EncodeUpdate(const ModelState& trained, const ModelState* reference,
                         const CodecSpec& spec, uint64_t seed) {
  for (const NamedTensor& t : trained.tensors) {
    if (static_cast<int64_t>(t.values.size()) != NumElements(t.shape)) {
      throw std::invalid_argument("EncodeUpdate: tensor " + t.name + " does not fill its shape");
    }
  }
  if (spec.binary == BinaryEncoding::kQ8Delta &&
      (reference == nullptr || !CheckSameLayout(trained, *reference).ok())) {
    throw std::invalid_argument("EncodeUpdate: q8_delta needs a reference of the same layout");
  }
  const size_t payload = PayloadBytes(trained, spec);
  std::string out(kCodecHeaderBytes + payload, '\0');
  char* p = out.data();
  std::memcpy(p, kMagic, 4);
  p[4] = static_cast<char>(kCodecVersion);
  p[5] = static_cast<char>(spec.binary);
  p[6] = static_cast<char>(spec.floats);
  StoreLe32(static_cast<uint32_t>(trained.tensors.size()), p + 8);
  StoreLe64(LayoutFingerprint(trained), p + 12);
  StoreLe64(payload, p + 20);
  char* at = p + kCodecHeaderBytes;
  for (size_t i = 0; i < trained.tensors.size(); ++i) {
    const NamedTensor& t = trained.tensors[i];
    const int64_t n = static_cast<int64_t>(t.values.size());
    const float* x = t.values.data();
    const Block block = BlockOf(t.kind, spec);
    switch (block) {
      case Block::kSign1:
        PackSigns(x, n, reinterpret_cast<uint8_t*>(at));
        break;
      case Block::kSign1Scaled: {
        double sum = 0;
        for (int64_t k = 0; k < n; ++k) sum += std::fabs(x[k]);
        // Positive, as in the packed format, so that the scale never flips a sign.
        float scale = std::max(n ? static_cast<float>(sum / n) : 0.f, 1e-6f);
        if (std::isnan(sum)) scale = std::numeric_limits<float>::quiet_NaN();
        std::memcpy(at, &scale, 4);
        PackSigns(x, n, reinterpret_cast<uint8_t*>(at + 4));
        break;
      }
      case Block::kQ8:
        EncodeQ8(x, nullptr, n, Q8Rounding::kStochastic, TensorSeed(seed, i), at);
        break;
      case Block::kQ8Delta:
        EncodeQ8(x, reference->tensors[i].values.data(), n, Q8Rounding::kStochastic,
                 TensorSeed(seed, i), at);
        break;
      case Block::kF16:
        for (int64_t k = 0; k < n; ++k) {
          uint16_t h = FloatToHalf(x[k]);
          at[2 * k] = static_cast<char>(h & 0xff);
          at[2 * k + 1] = static_cast<char>(h >> 8);
        }
        break;
      case Block::kF32:
        if (n > 0) std::memcpy(at, x, static_cast<size_t>(n) * 4);  // an empty tensor's x is null
        break;
    }
    at += BlockBytes(block, n);
  }
  Digest256 digest = Sha256Of(std::string_view(p + kCodecHeaderBytes, payload));
  std::memcpy(p + 28, digest.data(), digest.size());
  return out;
}

Result<EncodedUpdateView> ParseEncodedUpdate(std::string_view bytes, const ModelState& layout) {
  if (bytes.size() < kCodecHeaderBytes || std::memcmp(bytes.data(), kMagic, 4) != 0) {
    return Corrupt("not a fedsmear update (bad magic or shorter than its header)");
  }
  const char* p = bytes.data();
  const uint8_t version = static_cast<uint8_t>(p[4]);
  const uint8_t bin = static_cast<uint8_t>(p[5]);
  const uint8_t flt = static_cast<uint8_t>(p[6]);
  if (version != kCodecVersion) {
    return Corrupt("update codec version " + std::to_string(version) + " is not supported (this " +
                   "build reads " + std::to_string(kCodecVersion) + ")");
  }
  if (bin > static_cast<uint8_t>(BinaryEncoding::kF32) ||
      flt > static_cast<uint8_t>(FloatEncoding::kQ8) || p[7] != 0) {
    return Corrupt("update names an unknown encoding");
  }
  EncodedUpdateView view;
  view.spec = {static_cast<BinaryEncoding>(bin), static_cast<FloatEncoding>(flt)};
  const uint32_t count = LoadLe32(p + 8);
  if (count != layout.tensors.size()) {
    return Corrupt("update holds " + std::to_string(count) + " tensors, the model has " +
                   std::to_string(layout.tensors.size()));
  }
  if (LoadLe64(p + 12) != LayoutFingerprint(layout)) {
    return Corrupt("update was encoded for another model layout");
  }
  const size_t expected = PayloadBytes(layout, view.spec);
  const uint64_t claimed = LoadLe64(p + 20);
  if (claimed != expected || bytes.size() - kCodecHeaderBytes != expected) {
    return Corrupt("update payload is " + std::to_string(bytes.size() - kCodecHeaderBytes) +
                   " bytes (header says " + std::to_string(claimed) + "), the model needs " +
                   std::to_string(expected) + " for " + CodecSpecName(view.spec));
  }
  std::string_view payload = bytes.substr(kCodecHeaderBytes);
  Digest256 digest = Sha256Of(payload);
  if (std::memcmp(digest.data(), p + 28, digest.size()) != 0) {
    return Corrupt("update checksum mismatch");
  }
  view.blocks.reserve(count);
  size_t at = 0;
  for (const NamedTensor& t : layout.tensors) {
    const int64_t n = NumElements(t.shape);
    const Block block = BlockOf(t.kind, view.spec);
    std::string_view b = payload.substr(at, BlockBytes(block, n));
    at += b.size();
    if (block == Block::kQ8Delta && static_cast<int64_t>(t.values.size()) != n) {
      return InvalidArgument("q8_delta needs the reference values of " + t.name);
    }
    if (block == Block::kSign1Scaled && LoadLeF32(b.data()) < 0) {
      return Corrupt("negative sign scale in " + t.name);
    }
    if (block == Block::kQ8 || block == Block::kQ8Delta) {
      if (!Q8HeadValid(b.data())) return Corrupt("bad q8 range in " + t.name);
    }
    view.blocks.push_back(b);
  }
  return view;
}

void DecodeBlock(const CodecSpec& spec, const NamedTensor& reference, std::string_view block,
                 float* out) {
  const int64_t n = NumElements(reference.shape);
  const char* b = block.data();
  switch (BlockOf(reference.kind, spec)) {
    case Block::kSign1:
      UnpackSignBits(reinterpret_cast<const uint8_t*>(b), n, 1.f, out);
      break;
    case Block::kSign1Scaled:
      UnpackSignBits(reinterpret_cast<const uint8_t*>(b + 4), n, LoadLeF32(b), out);
      break;
    case Block::kQ8:
      DecodeQ8(b, nullptr, n, out);
      break;
    case Block::kQ8Delta:
      DecodeQ8(b, reference.values.data(), n, out);
      break;
    case Block::kF16: {
      const uint8_t* h = reinterpret_cast<const uint8_t*>(b);
      for (int64_t k = 0; k < n; ++k) {
        out[k] = HalfToFloat(static_cast<uint16_t>(h[2 * k] | (h[2 * k + 1] << 8)));
      }
      break;
    }
    case Block::kF32:
      if (n > 0) std::memcpy(out, b, static_cast<size_t>(n) * 4);  // out is null when n == 0
      break;
  }
}

Result<ModelState> DecodeUpdate(std::string_view bytes, const ModelState& layout) {
  ASSIGN_OR_RETURN(EncodedUpdateView view, ParseEncodedUpdate(bytes, layout));
  ModelState out;
  out.meta = layout.meta;
  out.tensors.resize(layout.tensors.size());
  for (size_t i = 0; i < layout.tensors.size(); ++i) {
    const NamedTensor& l = layout.tensors[i];
    NamedTensor& t = out.tensors[i];
    t.name = l.name;
    t.shape = l.shape;
    t.kind = l.kind;
    t.values.resize(static_cast<size_t>(NumElements(l.shape)));
    DecodeBlock(view.spec, l, view.blocks[i], t.values.data());
  }
  return out;
}

}  // namespace fedsmear
