// The codec registry's contract, run on every registered codec: a codec added to
// models/codecs/registry.cc is round-tripped, sized and attacked here without a test of its own.
#include "models/codecs/codec_registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "models/codec.h"
#include "models/packed_model.h"
#include "tests/models/codecs/golden_state.h"

namespace fedsmear {
namespace {

constexpr CodecDirection kUp = CodecDirection::kUplink;
constexpr CodecDirection kDown = CodecDirection::kDownlink;

// Decoded values a codec's declaration promises whatever its precision: the layout, finite
// values for finite input, and the signs of binary weights when it sends a sign bitmap.
void ExpectDeclaredContract(const TensorCodec& binary, const ModelState& in,
                            const ModelState& out) {
  ASSERT_TRUE(CheckSameLayout(in, out).ok());
  EXPECT_TRUE(CheckFinite(out).ok());
  for (size_t i = 0; i < in.tensors.size(); ++i) {
    const NamedTensor& t = in.tensors[i];
    if (t.kind != TensorKind::kBinary || !binary.signs.packed) continue;
    for (size_t k = 0; k < t.values.size(); ++k) {
      EXPECT_EQ(out.tensors[i].values[k] >= 0, t.values[k] >= 0) << t.name << " " << k;
    }
  }
}

TEST(CodecRegistryTest, EveryUplinkCodecRoundTrips) {
  const ModelState global = testing::GoldenState(1), trained = testing::GoldenState(2);
  for (const CodecSpec& spec : AllUplinkCodecSpecs()) {
    SCOPED_TRACE(CodecSpecName(spec));
    auto parsed = ParseCodecSpec(CodecSpecName(spec));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_TRUE(*parsed == spec);
    const std::string bytes = EncodeUpdate(trained, &global, spec, 9);
    if (spec.frame) {
      EXPECT_LE(bytes.size(), EncodedUpdateSize(global, spec));  // a bound when framed
    } else {
      EXPECT_EQ(bytes.size(), EncodedUpdateSize(global, spec));
    }
    EXPECT_EQ(bytes, EncodeUpdate(trained, &global, spec, 9));
    auto back = DecodeUpdate(bytes, global);
    ASSERT_TRUE(back.ok()) << back.status();
    ExpectDeclaredContract(*spec.binary, trained, *back);
    if (spec.frame) {  // a frame is lossless: the same values as the unframed codec
      CodecSpec unframed = spec;
      unframed.frame = nullptr;
      auto plain = DecodeUpdate(EncodeUpdate(trained, &global, unframed, 9), global);
      ASSERT_TRUE(plain.ok());
      for (size_t i = 0; i < plain->tensors.size(); ++i) {
        EXPECT_EQ(std::memcmp(plain->tensors[i].values.data(), back->tensors[i].values.data(),
                              4 * plain->tensors[i].values.size()),
                  0)
            << plain->tensors[i].name;
      }
    }
    auto view = ParseEncodedUpdate(bytes, global);
    ASSERT_TRUE(view.ok());
    EXPECT_TRUE(view->spec == spec);
  }
}

// PackModel's exact size from the codecs' declared block sizes.
size_t PackedSize(const ModelState& s, const PackOptions& o) {
  size_t n = 8 + 4 + 32 + 4 + s.meta.arch.size() + 4 + 4 + 4 + 1 + 1 + 4;
  for (const std::string& c : s.meta.class_names) n += 4 + c.size();
  for (const NamedTensor& t : s.tensors) {
    n += 4 + t.name.size() + 1 + 4 + 8 * t.shape.size();
    n += CodecForKind(t.kind, *o.binary, *o.floats).bytes(NumElements(t.shape));
  }
  return n;
}

TEST(CodecRegistryTest, EveryDownlinkCodecRoundTrips) {
  const ModelState global = testing::GoldenState(3);
  for (const std::string& name : DownlinkCodecNames()) {
    SCOPED_TRACE(name);
    auto options = ParseDownlinkCodec(name);
    ASSERT_TRUE(options.ok()) << options.status();
    const std::string bytes = PackModel(global, *options);
    EXPECT_EQ(bytes.size(), PackedSize(global, *options));
    EXPECT_EQ(bytes, PackModel(global, *options));
    auto back = UnpackModel(bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->meta.class_names, global.meta.class_names);
    ExpectDeclaredContract(*options->binary, global, *back);
  }
}

// Each codec's functions on their own: bytes() is what encode writes, check() accepts it and
// decode() writes exactly n values, for sizes around the byte boundaries.
TEST(CodecRegistryTest, EveryCodecKeepsToItsBlock) {
  for (const TensorCodec& codec : Codecs().tensors()) {
    for (const CodecUse& use : codec.uses) {
      SCOPED_TRACE(codec.name + " " + CodecDirectionName(use.direction));
      for (int64_t n : {0, 1, 7, 8, 9, 64, 1000}) {
        std::vector<float> x(static_cast<size_t>(n)), ref(static_cast<size_t>(n));
        for (int64_t k = 0; k < n; ++k) {
          x[k] = std::sin(0.7f * static_cast<float>(k)) - 0.1f;
          ref[k] = std::cos(0.3f * static_cast<float>(k));
        }
        BlockArgs args;
        args.n = n;
        args.reference = codec.needs_reference ? ref.data() : nullptr;
        args.direction = use.direction;
        args.seed = 5;
        args.tensor = "t";
        const size_t size = codec.bytes(n);
        std::string block(size + 16, '\x5a');
        codec.encode(x.data(), args, block.data());
        EXPECT_EQ(block.substr(size), std::string(16, '\x5a')) << n;  // nothing past bytes(n)
        if (codec.check) {
          EXPECT_TRUE(codec.check(block.data(), args).ok()) << n;
        }
        std::vector<float> out(static_cast<size_t>(n) + 4, 12345.f);
        codec.decode(block.data(), args, out.data());
        for (int64_t k = 0; k < n; ++k) EXPECT_TRUE(std::isfinite(out[k])) << n << " " << k;
        for (size_t k = static_cast<size_t>(n); k < out.size(); ++k) EXPECT_EQ(out[k], 12345.f);
      }
    }
  }
}

// The loops above reach every registered codec in every direction and slot it declares.
TEST(CodecRegistryTest, TheLoopsCoverEveryRegisteredCodec) {
  std::vector<PackOptions> downs;
  for (const std::string& name : DownlinkCodecNames()) downs.push_back(*ParseDownlinkCodec(name));
  const std::vector<CodecSpec> ups = AllUplinkCodecSpecs();
  for (const TensorCodec& codec : Codecs().tensors()) {
    for (const CodecUse& use : codec.uses) {
      bool seen = false;
      for (const CodecSpec& s : ups) {
        seen |= use.direction == kUp &&
                (use.slot == CodecSlot::kBinary ? s.binary : s.floats) == &codec;
      }
      for (const PackOptions& o : downs) {
        seen |= use.direction == kDown &&
                (use.slot == CodecSlot::kBinary ? o.binary : o.floats) == &codec;
      }
      EXPECT_TRUE(seen) << codec.name << " " << CodecDirectionName(use.direction) << " "
                        << CodecSlotName(use.slot);
    }
  }
  for (const FrameCodec& frame : Codecs().frames()) {
    bool seen = false;
    for (const CodecSpec& s : ups) seen |= s.frame == &frame;
    EXPECT_TRUE(seen) << frame.name;
  }
  EXPECT_EQ(ups.size(), AllCodecSpecs().size() * (1 + Codecs().ListFrames(kUp).size()));
}

TEST(CodecRegistryTest, EveryCodecRefusesTruncatedAndCorruptedBytes) {
  const ModelState global = testing::GoldenState(1), trained = testing::GoldenState(2);
  for (const CodecSpec& spec : AllUplinkCodecSpecs()) {
    SCOPED_TRACE(CodecSpecName(spec));
    const std::string good = EncodeUpdate(trained, &global, spec, 3);
    for (size_t cut : {size_t{0}, kCodecHeaderBytes - 1, kCodecHeaderBytes, good.size() / 2,
                       good.size() - 1}) {
      EXPECT_EQ(DecodeUpdate(good.substr(0, cut), global).status().code(), StatusCode::kCorrupt)
          << cut;
    }
    EXPECT_EQ(DecodeUpdate(good + 'x', global).status().code(), StatusCode::kCorrupt);
    for (size_t at = 0; at < good.size(); ++at) {
      std::string bad = good;
      bad[at] = static_cast<char>(bad[at] ^ 0x10);
      EXPECT_EQ(DecodeUpdate(bad, global).status().code(), StatusCode::kCorrupt) << at;
    }
  }
  for (const std::string& name : DownlinkCodecNames()) {
    SCOPED_TRACE(name);
    const std::string good = PackModel(global, *ParseDownlinkCodec(name));
    for (size_t cut : {size_t{0}, size_t{43}, size_t{44}, good.size() / 2, good.size() - 1}) {
      EXPECT_EQ(UnpackModel(good.substr(0, cut)).status().code(), StatusCode::kCorrupt) << cut;
    }
    for (size_t at = 0; at < good.size(); ++at) {
      std::string bad = good;
      bad[at] = static_cast<char>(bad[at] ^ 0x10);
      EXPECT_FALSE(UnpackModel(bad).ok()) << at;
    }
  }
}

TEST(CodecRegistryTest, FramedNamesParse) {
  auto z = ParseCodecSpec("sign1+q8+zstd");
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_EQ(z->binary->name, "sign1");
  EXPECT_EQ(z->floats->name, "q8");
  ASSERT_NE(z->frame, nullptr);
  EXPECT_EQ(z->frame->name, "zstd");
  EXPECT_EQ(CodecSpecName(*ParseCodecSpec("f32+zstd")), "f32+zstd");
  EXPECT_EQ(CodecSpecName(*ParseCodecSpec("sign1+zstd")), "sign1+f32+zstd");
  EXPECT_TRUE(*ParseCodecSpec("f32+f32+zstd") == *ParseCodecSpec("f32+zstd"));
  for (const char* bad : {"zstd", "zstd+sign1", "sign1+zstd+q8", "sign1+q8+zstd+zstd",
                          "sign1+q8+", "sign1+q8+gzip"}) {
    EXPECT_EQ(ParseCodecSpec(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParseCodecSpec("sign2").status().message().find("[+<zstd>]"), std::string::npos);
  EXPECT_FALSE(ParseDownlinkCodec("sign1+q8+zstd").ok());  // frames are uplink only
  EXPECT_FALSE(ParseDownlinkCodec("sign1_scaled").ok());
  EXPECT_FALSE(ParseDownlinkCodec("f32+f32").ok());
}

TEST(CodecRegistryTest, DeclaredSignLayouts) {
  EXPECT_EQ(ParseCodecSpec("sign1")->binary->signs.bits_at, 0u);
  EXPECT_EQ(ParseCodecSpec("sign1_scaled")->binary->signs.bits_at, 4u);
  EXPECT_TRUE(ParseCodecSpec("sign1_scaled")->binary->signs.packed);
  EXPECT_FALSE(ParseCodecSpec("q8_delta")->binary->signs.packed);
  EXPECT_FALSE(ParseCodecSpec("f32")->binary->signs.packed);
  EXPECT_TRUE(ParseDownlinkCodec("sign1")->binary->signs.packed);
  EXPECT_FALSE(ParseDownlinkCodec("f32+q8")->binary->signs.packed);
}

// Copies of registered entries, for registries built by hand.
TensorCodec Entry(CodecDirection d, CodecSlot s, const std::string& name) {
  const TensorCodec* c = Codecs().Find(d, s, name);
  EXPECT_NE(c, nullptr) << name;
  return c ? *c : TensorCodec{};
}

TEST(CodecRegistryTest, BuildRefusesDuplicatesAndBadEntries) {
  const TensorCodec f32 = Entry(kUp, CodecSlot::kFloats, "f32");
  const TensorCodec f16 = Entry(kUp, CodecSlot::kFloats, "f16");
  const TensorCodec sign1 = Entry(kUp, CodecSlot::kBinary, "sign1");
  const TensorCodec sign1_down = Entry(kDown, CodecSlot::kBinary, "sign1");
  const FrameCodec zstd = *Codecs().FindFrame(kUp, "zstd");
  auto refused = [](std::vector<TensorCodec> tensors, std::vector<FrameCodec> frames,
                    const std::string& why) {
    auto r = CodecRegistry::Build(std::move(tensors), std::move(frames));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status();
  };
  // The real entries build; one name may serve two directions as two entries.
  ASSERT_TRUE(CodecRegistry::Build({sign1, f32, f16, sign1_down}, {zstd}).ok());

  refused({sign1, f32, f16, f16}, {}, "duplicate codec name f16");
  TensorCodec same_id = f16;
  same_id.name = "f16b";
  refused({sign1, f32, f16, same_id}, {}, "share wire id 1");
  TensorCodec elsewhere = same_id;  // the same id in another slot is fine
  elsewhere.uses = {{kUp, CodecSlot::kBinary, 7}};
  EXPECT_TRUE(CodecRegistry::Build({sign1, f32, f16, elsewhere}, {}).ok());
  TensorCodec plus = f16;
  plus.name = "f16+x";
  refused({f32, plus}, {}, "holds '+'");
  TensorCodec no_decode = f16;
  no_decode.name = "f17";
  no_decode.uses = {{kUp, CodecSlot::kFloats, 9}};
  no_decode.decode = nullptr;
  refused({f32, no_decode}, {}, "lacks");
  refused({sign1, f16}, {}, "no f32 codec");

  refused({f32}, {zstd, zstd}, "duplicate frame name zstd");
  FrameCodec zstd2 = zstd;
  zstd2.name = "zstd2";
  refused({f32}, {zstd, zstd2}, "share wire id 1");
  FrameCodec named_like_codec = zstd;
  named_like_codec.name = "f32";
  refused({f32}, {named_like_codec}, "named like a tensor codec");
  FrameCodec down = zstd;
  down.uses = {{kDown, 1}};
  refused({f32}, {down}, "no frame byte");
  FrameCodec zero = zstd;
  zero.uses = {{kUp, 0}};
  refused({f32}, {zero}, "wire id 0");
}

}  // namespace
}  // namespace fedsmear
