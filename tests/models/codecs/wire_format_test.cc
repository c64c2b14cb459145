// Byte-exact formats: every codec that existed when the registry was introduced writes the same
// bytes as before (uplink codec version 2, packed model format 2) for a fixed state and seed.
// A change here is a format change: bump kCodecVersion / kPackedFormatVersion instead.
#include <gtest/gtest.h>

#include <string>

#include "common/sha256.h"
#include "models/codec.h"
#include "models/packed_model.h"
#include "tests/models/codecs/golden_state.h"

namespace fedsmear {
namespace {

struct Golden {
  const char* codec;
  size_t bytes;
  const char* sha256_prefix;  // first 8 bytes, hex
};

std::string Prefix(const std::string& bytes) { return ToHex(Sha256Of(bytes)).substr(0, 16); }

TEST(WireFormatTest, UplinkBytesAreUnchanged) {
  const Golden golden[] = {
      {"sign1+f32", 174, "c2c2b8bbac4499c3"},
      {"sign1+f16", 138, "128eab1ff52e8deb"},
      {"sign1+q8", 144, "aca2174ab073da96"},
      {"sign1_scaled+f32", 182, "7077f8ba9b08e1e3"},
      {"sign1_scaled+f16", 146, "511e8d101d0feef4"},
      {"sign1_scaled+q8", 152, "b0bdb421f8ad97a8"},
      {"q8_delta+f32", 340, "92323d8542bb7cad"},
      {"q8_delta+f16", 304, "eeae900b660f8f19"},
      {"q8_delta+q8", 310, "6503436ec4875d87"},
      {"f32", 840, "4b77166599d932e8"},
      {"f32+f16", 804, "3102b6566d645f13"},
      {"f32+q8", 810, "6e86cd34409e9e93"},
  };
  ASSERT_EQ(AllCodecSpecs().size(), std::size(golden));
  const ModelState global = testing::GoldenState(1), trained = testing::GoldenState(2);
  for (size_t i = 0; i < std::size(golden); ++i) {
    EXPECT_EQ(CodecSpecName(AllCodecSpecs()[i]), golden[i].codec);  // the listed order too
    const std::string bytes = EncodeUpdate(trained, &global, *ParseCodecSpec(golden[i].codec), 77);
    EXPECT_EQ(bytes.size(), golden[i].bytes) << golden[i].codec;
    EXPECT_EQ(Prefix(bytes), golden[i].sha256_prefix) << golden[i].codec;
  }
}

TEST(WireFormatTest, PackedModelBytesAreUnchanged) {
  const Golden golden[] = {
      {"f32", 1071, "88afddcddd1180bf"},
      {"f32+f16", 1035, "eca31833368ffb19"},
      {"f32+q8", 1041, "516093cf7578bf00"},
      {"sign1", 413, "35ef6e9fab2e3924"},
      {"sign1+f16", 377, "02705c8babc55c98"},
      {"sign1+q8", 383, "c889fd2a12c45427"},
  };
  ASSERT_EQ(DownlinkCodecNames().size(), std::size(golden));
  const ModelState global = testing::GoldenState(1);
  for (size_t i = 0; i < std::size(golden); ++i) {
    EXPECT_EQ(DownlinkCodecNames()[i], golden[i].codec);  // the listed order too
    const std::string bytes = PackModel(global, *ParseDownlinkCodec(golden[i].codec));
    EXPECT_EQ(bytes.size(), golden[i].bytes) << golden[i].codec;
    EXPECT_EQ(Prefix(bytes), golden[i].sha256_prefix) << golden[i].codec;
  }
  EXPECT_EQ(PackModel(global), PackModel(global, *ParseDownlinkCodec("sign1")));  // the default
}

// An update framed with zstd keeps the header layout: frame byte 1, the other codec ids as
// unframed, payload length and checksum of the frame.
TEST(WireFormatTest, ZstdFrameHeader) {
  const ModelState global = testing::GoldenState(1), trained = testing::GoldenState(2);
  const std::string plain = EncodeUpdate(trained, &global, *ParseCodecSpec("sign1+q8"), 77);
  const std::string framed = EncodeUpdate(trained, &global, *ParseCodecSpec("sign1+q8+zstd"), 77);
  EXPECT_EQ(framed.substr(0, 7), plain.substr(0, 7));
  EXPECT_EQ(plain[7], 0);
  EXPECT_EQ(framed[7], 1);
  EXPECT_EQ(framed.substr(8, 12), plain.substr(8, 12));  // tensor count, fingerprint
  EXPECT_EQ(framed.substr(kCodecHeaderBytes, 4), std::string("\x28\xb5\x2f\xfd", 4));  // zstd
}

}  // namespace
}  // namespace fedsmear
