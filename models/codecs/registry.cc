#include "models/codecs/codec_registry.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace fedsmear {

// Each codec's entry, defined in its own file under models/codecs/. A new codec adds its
// declaration here and its name to the list below. Names are listed (help texts, AllCodecSpecs,
// DownlinkCodecNames) in the list's order.
TensorCodec Sign1Entry(), Sign1ScaledEntry(), Q8DeltaEntry(), F32Entry(), F16Entry(), Q8Entry(),
    Sign1DownlinkEntry();
FrameCodec ZstdEntry();

const CodecRegistry& Codecs() {
  static const CodecRegistry registry = [] {
    Result<CodecRegistry> built = CodecRegistry::Build(
        {Sign1Entry(), Sign1ScaledEntry(), Q8DeltaEntry(), F32Entry(), F16Entry(), Q8Entry(),
         Sign1DownlinkEntry()},
        {ZstdEntry()});
    if (!built.ok()) {  // a programming error in an entry, caught by every codec test
      std::fprintf(stderr, "fedsmear: codec registry: %s\n", built.status().ToString().c_str());
      std::abort();
    }
    return std::move(built).value();
  }();
  return registry;
}

const char* CodecDirectionName(CodecDirection direction) {
  return direction == CodecDirection::kUplink ? "uplink" : "downlink";
}

const char* CodecSlotName(CodecSlot slot) {
  return slot == CodecSlot::kBinary ? "binary" : "floats";
}

std::optional<uint8_t> TensorCodec::WireId(CodecDirection direction, CodecSlot slot) const {
  for (const CodecUse& u : uses) {
    if (u.direction == direction && u.slot == slot) return u.wire_id;
  }
  return std::nullopt;
}

std::optional<uint8_t> FrameCodec::WireId(CodecDirection direction) const {
  for (const FrameUse& u : uses) {
    if (u.direction == direction) return u.wire_id;
  }
  return std::nullopt;
}

namespace {

Status CheckName(const std::string& name, const std::string& help) {
  if (name.empty()) return InvalidArgument("a codec has no name");
  if (name.find('+') != std::string::npos) {
    return InvalidArgument("codec name '" + name + "' holds '+', which separates codec names");
  }
  if (help.empty()) return InvalidArgument("codec " + name + " has no help line");
  return Status::Ok();
}

std::string Where(CodecDirection d, CodecSlot s) {
  return std::string(CodecDirectionName(d)) + " " + CodecSlotName(s);
}

}  // namespace

Result<CodecRegistry> CodecRegistry::Build(std::vector<TensorCodec> tensors,
                                           std::vector<FrameCodec> frames) {
  CodecRegistry r;
  bool have_f32 = false;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorCodec& c = tensors[i];
    RETURN_IF_ERROR(CheckName(c.name, c.help));
    if (!c.bytes || !c.encode || !c.decode) {
      return InvalidArgument("codec " + c.name + " lacks bytes, encode or decode");
    }
    if (c.uses.empty()) return InvalidArgument("codec " + c.name + " is offered nowhere");
    for (size_t k = 0; k < c.uses.size(); ++k) {
      const CodecUse& u = c.uses[k];
      for (size_t k2 = 0; k2 < k; ++k2) {
        if (c.uses[k2].direction == u.direction && c.uses[k2].slot == u.slot) {
          return InvalidArgument("codec " + c.name + " names the " + Where(u.direction, u.slot) +
                                 " slot twice");
        }
      }
      for (size_t j = 0; j < i; ++j) {
        const std::optional<uint8_t> id = tensors[j].WireId(u.direction, u.slot);
        if (!id) continue;
        if (tensors[j].name == c.name) {
          return InvalidArgument("duplicate codec name " + c.name + " in the " +
                                 Where(u.direction, u.slot) + " slot");
        }
        if (*id == u.wire_id) {
          return InvalidArgument("codecs " + tensors[j].name + " and " + c.name +
                                 " share wire id " + std::to_string(u.wire_id) + " in the " +
                                 Where(u.direction, u.slot) + " slot");
        }
      }
    }
    if (!have_f32 && c.name == "f32" && c.WireId(CodecDirection::kUplink, CodecSlot::kFloats) &&
        c.WireId(CodecDirection::kDownlink, CodecSlot::kFloats) && !c.needs_reference) {
      r.f32_ = i;
      have_f32 = true;
    }
  }
  if (!have_f32) {
    return InvalidArgument("no f32 codec serves the floats slot both ways (BN statistics)");
  }
  for (size_t i = 0; i < frames.size(); ++i) {
    const FrameCodec& f = frames[i];
    RETURN_IF_ERROR(CheckName(f.name, f.help));
    if (!f.max_bytes || !f.encode || !f.decode) {
      return InvalidArgument("frame " + f.name + " lacks max_bytes, encode or decode");
    }
    if (f.uses.empty()) return InvalidArgument("frame " + f.name + " is offered nowhere");
    for (const TensorCodec& c : tensors) {
      if (c.name == f.name) {
        return InvalidArgument("frame " + f.name + " is named like a tensor codec");
      }
    }
    for (const FrameUse& u : f.uses) {
      if (u.direction == CodecDirection::kDownlink) {
        return InvalidArgument("frame " + f.name + ": the packed model format has no frame byte");
      }
      if (u.wire_id == 0) return InvalidArgument("frame " + f.name + ": wire id 0 means none");
      for (size_t j = 0; j < i; ++j) {
        const std::optional<uint8_t> id = frames[j].WireId(u.direction);
        if (!id) continue;
        if (frames[j].name == f.name) {
          return InvalidArgument("duplicate frame name " + f.name);
        }
        if (*id == u.wire_id) {
          return InvalidArgument("frames " + frames[j].name + " and " + f.name +
                                 " share wire id " + std::to_string(u.wire_id));
        }
      }
    }
  }
  r.tensors_ = std::move(tensors);
  r.frames_ = std::move(frames);
  return r;
}

const TensorCodec* CodecRegistry::Find(CodecDirection d, CodecSlot s,
                                       std::string_view name) const {
  for (const TensorCodec& c : tensors_) {
    if (c.name == name && c.WireId(d, s)) return &c;
  }
  return nullptr;
}

const TensorCodec* CodecRegistry::FindId(CodecDirection d, CodecSlot s, uint8_t wire_id) const {
  for (const TensorCodec& c : tensors_) {
    if (c.WireId(d, s) == wire_id) return &c;
  }
  return nullptr;
}

std::vector<const TensorCodec*> CodecRegistry::List(CodecDirection d, CodecSlot s) const {
  std::vector<const TensorCodec*> out;
  for (const TensorCodec& c : tensors_) {
    if (c.WireId(d, s)) out.push_back(&c);
  }
  return out;
}

const FrameCodec* CodecRegistry::FindFrame(CodecDirection d, std::string_view name) const {
  for (const FrameCodec& f : frames_) {
    if (f.name == name && f.WireId(d)) return &f;
  }
  return nullptr;
}

const FrameCodec* CodecRegistry::FindFrameId(CodecDirection d, uint8_t wire_id) const {
  for (const FrameCodec& f : frames_) {
    if (f.WireId(d) == wire_id) return &f;
  }
  return nullptr;
}

std::vector<const FrameCodec*> CodecRegistry::ListFrames(CodecDirection d) const {
  std::vector<const FrameCodec*> out;
  for (const FrameCodec& f : frames_) {
    if (f.WireId(d)) out.push_back(&f);
  }
  return out;
}

const TensorCodec& CodecForKind(TensorKind kind, const TensorCodec& binary,
                                const TensorCodec& floats) {
  switch (kind) {
    case TensorKind::kBinary: return binary;
    case TensorKind::kFloat: return floats;
    case TensorKind::kStat: break;
  }
  return Codecs().f32();
}

}  // namespace fedsmear
