#include "common/le_bytes.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace fedsmear {
namespace {

TEST(LeBytesTest, WritesTheLeastSignificantByteFirst) {
  std::string s;
  AppendLe32(s, 0x01020304u);
  AppendLe64(s, 0x0a0b0c0d0e0f1011ull);
  EXPECT_EQ(s, std::string("\x04\x03\x02\x01\x11\x10\x0f\x0e\x0d\x0c\x0b\x0a", 12));
  std::vector<uint8_t> v;
  AppendLe32(v, 0xdeadbeefu);
  EXPECT_EQ(v, (std::vector<uint8_t>{0xef, 0xbe, 0xad, 0xde}));
  char fixed[12];
  StoreLe32(0x01020304u, fixed);
  StoreLe64(0x0a0b0c0d0e0f1011ull, fixed + 4);
  EXPECT_EQ(std::string(fixed, 12), s);
  EXPECT_EQ(LoadLe32(fixed), 0x01020304u);
  EXPECT_EQ(LoadLe64(fixed + 4), 0x0a0b0c0d0e0f1011ull);
}

TEST(LeBytesTest, FloatsRoundTripBitForBit) {
  const std::vector<float> values = {0.f, -0.f, 1.5f, -3.25e-7f,
                                     std::numeric_limits<float>::infinity(),
                                     std::numeric_limits<float>::denorm_min()};
  std::string s;
  AppendLeF32s(s, values);
  ASSERT_EQ(s.size(), values.size() * 4);
  // 1.5f is 0x3fc00000.
  EXPECT_EQ(s.substr(8, 4), std::string("\x00\x00\xc0\x3f", 4));
  LeReader in(s);
  std::vector<float> back;
  ASSERT_TRUE(in.F32s(values.size(), &back));
  EXPECT_TRUE(in.done());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(std::memcmp(&back[i], &values[i], 4), 0) << i;
  }
}

TEST(LeBytesTest, ReaderRefusesToReadPastTheEnd) {
  std::string s;
  AppendLe32(s, 7);
  AppendLe32(s, 9);
  LeReader in(s);
  uint64_t big = 0;
  ASSERT_TRUE(in.U64(&big));
  EXPECT_EQ(big, (uint64_t{9} << 32) | 7);
  uint32_t small = 0;
  EXPECT_FALSE(in.U32(&small));
  EXPECT_TRUE(in.done());

  LeReader short_floats(s);
  std::vector<float> out = {42.f};
  EXPECT_FALSE(short_floats.F32s(3, &out));  // 12 bytes asked, 8 there
  EXPECT_EQ(out, std::vector<float>{42.f});  // untouched
  EXPECT_FALSE(short_floats.F32s(uint64_t{1} << 62, &out));  // no overflow in the check
  EXPECT_EQ(short_floats.remaining(), 8u);
}

}  // namespace
}  // namespace fedsmear
