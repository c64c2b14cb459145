#include "models/codec.h"

#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "common/le_bytes.h"
#include "common/sha256.h"
#include "models/q8.h"

namespace fedsmear {
namespace {

constexpr char kMagic[4] = {'F', 'S', 'U', 'P'};

constexpr CodecDirection kUp = CodecDirection::kUplink;

const TensorCodec& CodecOf(TensorKind kind, const CodecSpec& spec) {
  return CodecForKind(kind, *spec.binary, *spec.floats);
}

uint64_t TensorSeed(uint64_t seed, size_t index) {
  return SplitMix64(seed ^ (0xD1B54A32D192ED03ull * (index + 1))).Next();
}

// Bytes of the unframed payload.
size_t PayloadBytes(const ModelState& layout, const CodecSpec& spec) {
  size_t total = 0;
  for (const NamedTensor& t : layout.tensors) {
    total += CodecOf(t.kind, spec).bytes(NumElements(t.shape));
  }
  return total;
}

std::string ExpectedNames() {
  auto names = [](const std::vector<const TensorCodec*>& codecs) {
    std::string out;
    for (const TensorCodec* c : codecs) out += (out.empty() ? "" : "|") + c->name;
    return out;
  };
  std::string frames;
  for (const FrameCodec* f : Codecs().ListFrames(kUp)) {
    frames += (frames.empty() ? "" : "|") + f->name;
  }
  return "<" + names(Codecs().List(kUp, CodecSlot::kBinary)) + ">[+<" +
         names(Codecs().List(kUp, CodecSlot::kFloats)) + ">]" +
         (frames.empty() ? "" : "[+<" + frames + ">]");
}

}  // namespace

std::vector<CodecSpec> AllCodecSpecs() {
  std::vector<CodecSpec> all;
  for (const TensorCodec* b : Codecs().List(kUp, CodecSlot::kBinary)) {
    for (const TensorCodec* f : Codecs().List(kUp, CodecSlot::kFloats)) {
      CodecSpec spec;
      spec.binary = b;
      spec.floats = f;
      all.push_back(spec);
    }
  }
  return all;
}

std::vector<CodecSpec> AllUplinkCodecSpecs() {
  std::vector<CodecSpec> all = AllCodecSpecs();
  const size_t unframed = all.size();
  for (const FrameCodec* frame : Codecs().ListFrames(kUp)) {
    for (size_t i = 0; i < unframed; ++i) {
      all.push_back(all[i]);
      all.back().frame = frame;
    }
  }
  return all;
}

Result<CodecSpec> ParseCodecSpec(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    const size_t plus = text.find('+', at);
    parts.push_back(text.substr(at, plus == std::string_view::npos ? plus : plus - at));
    if (plus == std::string_view::npos) break;
    at = plus + 1;
  }
  CodecSpec spec;
  if (parts.size() >= 2) {
    spec.frame = Codecs().FindFrame(kUp, parts.back());
    if (spec.frame) parts.pop_back();
  }
  const TensorCodec* binary = Codecs().Find(kUp, CodecSlot::kBinary, parts[0]);
  const TensorCodec* floats =
      parts.size() == 1 ? &Codecs().f32() : Codecs().Find(kUp, CodecSlot::kFloats, parts[1]);
  if (parts.size() > 2 || !binary || !floats) {
    return InvalidArgument("unknown codec '" + std::string(text) + "' (expected " +
                           ExpectedNames() + ")");
  }
  spec.binary = binary;
  spec.floats = floats;
  return spec;
}

std::string CodecSpecName(const CodecSpec& spec) {
  CodecSpec unframed = spec;
  unframed.frame = nullptr;
  std::string name =
      unframed == CodecSpec{} ? "f32" : spec.binary->name + "+" + spec.floats->name;
  if (spec.frame) name += "+" + spec.frame->name;
  return name;
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
  const size_t payload = PayloadBytes(layout, spec);
  return kCodecHeaderBytes + (spec.frame ? spec.frame->max_bytes(payload) : payload);
}

std::string EncodeUpdate(const ModelState& trained, const ModelState* reference,
                         const CodecSpec& spec, uint64_t seed) {
  const std::optional<uint8_t> bin_id = spec.binary->WireId(kUp, CodecSlot::kBinary);
  const std::optional<uint8_t> flt_id = spec.floats->WireId(kUp, CodecSlot::kFloats);
  const std::optional<uint8_t> frame_id =
      spec.frame ? spec.frame->WireId(kUp) : std::optional<uint8_t>(0);
  if (!bin_id || !flt_id || !frame_id) {
    throw std::invalid_argument("EncodeUpdate: " + CodecSpecName(spec) + " is no uplink codec");
  }
  for (const NamedTensor& t : trained.tensors) {
    if (static_cast<int64_t>(t.values.size()) != NumElements(t.shape)) {
      throw std::invalid_argument("EncodeUpdate: tensor " + t.name + " does not fill its shape");
    }
  }
  if (spec.binary->needs_reference &&
      (reference == nullptr || !CheckSameLayout(trained, *reference).ok())) {
    throw std::invalid_argument("EncodeUpdate: " + spec.binary->name +
                                " needs a reference of the same layout");
  }
  const size_t raw = PayloadBytes(trained, spec);
  // Unframed, the blocks go straight after the header; framed, into a buffer of their own.
  std::string out(kCodecHeaderBytes + (spec.frame ? 0 : raw), '\0');
  std::string unframed(spec.frame ? raw : 0, '\0');
  char* at = spec.frame ? unframed.data() : out.data() + kCodecHeaderBytes;
  for (size_t i = 0; i < trained.tensors.size(); ++i) {
    const NamedTensor& t = trained.tensors[i];
    const TensorCodec& codec = CodecOf(t.kind, spec);
    BlockArgs args;
    args.n = static_cast<int64_t>(t.values.size());
    args.reference = codec.needs_reference ? reference->tensors[i].values.data() : nullptr;
    args.direction = kUp;
    args.seed = TensorSeed(seed, i);
    args.tensor = t.name;
    codec.encode(t.values.data(), args, at);
    at += codec.bytes(args.n);
  }
  if (spec.frame) out += spec.frame->encode(unframed);
  const size_t payload = out.size() - kCodecHeaderBytes;
  char* p = out.data();
  std::memcpy(p, kMagic, 4);
  p[4] = static_cast<char>(kCodecVersion);
  p[5] = static_cast<char>(*bin_id);
  p[6] = static_cast<char>(*flt_id);
  p[7] = static_cast<char>(*frame_id);
  StoreLe32(static_cast<uint32_t>(trained.tensors.size()), p + 8);
  StoreLe64(LayoutFingerprint(trained), p + 12);
  StoreLe64(payload, p + 20);
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
  if (version != kCodecVersion) {
    return Corrupt("update codec version " + std::to_string(version) + " is not supported (this " +
                   "build reads " + std::to_string(kCodecVersion) + ")");
  }
  EncodedUpdateView view;
  const TensorCodec* binary = Codecs().FindId(kUp, CodecSlot::kBinary, static_cast<uint8_t>(p[5]));
  const TensorCodec* floats = Codecs().FindId(kUp, CodecSlot::kFloats, static_cast<uint8_t>(p[6]));
  const uint8_t frame_id = static_cast<uint8_t>(p[7]);
  view.spec.frame = frame_id == 0 ? nullptr : Codecs().FindFrameId(kUp, frame_id);
  if (!binary || !floats || (frame_id != 0 && !view.spec.frame)) {
    return Corrupt("update names an unknown encoding");
  }
  view.spec.binary = binary;
  view.spec.floats = floats;
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
  const size_t sent = bytes.size() - kCodecHeaderBytes;
  const bool size_ok = view.spec.frame
                           ? claimed == sent && sent <= view.spec.frame->max_bytes(expected)
                           : claimed == expected && sent == expected;
  if (!size_ok) {
    return Corrupt("update payload is " + std::to_string(sent) + " bytes (header says " +
                   std::to_string(claimed) + "), the model needs " +
                   (view.spec.frame ? "at most " + std::to_string(
                                                       view.spec.frame->max_bytes(expected))
                                    : std::to_string(expected)) +
                   " for " + CodecSpecName(view.spec));
  }
  std::string_view payload = bytes.substr(kCodecHeaderBytes);
  Digest256 digest = Sha256Of(payload);
  if (std::memcmp(digest.data(), p + 28, digest.size()) != 0) {
    return Corrupt("update checksum mismatch");
  }
  if (view.spec.frame) {
    ASSIGN_OR_RETURN(std::string unframed, view.spec.frame->decode(payload, expected));
    view.unframed = std::make_shared<const std::string>(std::move(unframed));
    payload = *view.unframed;
  }
  view.blocks.reserve(count);
  size_t at = 0;
  for (const NamedTensor& t : layout.tensors) {
    const TensorCodec& codec = CodecOf(t.kind, view.spec);
    BlockArgs args;
    args.n = NumElements(t.shape);
    args.direction = kUp;
    args.tensor = t.name;
    std::string_view b = payload.substr(at, codec.bytes(args.n));
    at += b.size();
    if (codec.needs_reference && static_cast<int64_t>(t.values.size()) != args.n) {
      return InvalidArgument(codec.name + " needs the reference values of " + t.name);
    }
    if (codec.check) RETURN_IF_ERROR(codec.check(b.data(), args));
    view.blocks.push_back(b);
  }
  return view;
}

void DecodeBlock(const CodecSpec& spec, const NamedTensor& reference, std::string_view block,
                 float* out) {
  const TensorCodec& codec = CodecOf(reference.kind, spec);
  BlockArgs args;
  args.n = NumElements(reference.shape);
  args.reference = codec.needs_reference ? reference.values.data() : nullptr;
  args.direction = kUp;
  args.tensor = reference.name;
  codec.decode(block.data(), args, out);
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
