#include "models/arch.h"

#include <gtest/gtest.h>

namespace fedsmear {
namespace {

TEST(ArchTest, TransitionChannelsFollowLarqZoo) {
  // bdn28 at its three transitions: 448 -> 160, 544 -> 192, 576 -> 256.
  EXPECT_EQ(TransitionChannels(448, 2.7), 160);
  EXPECT_EQ(TransitionChannels(544, 2.7), 192);
  EXPECT_EQ(TransitionChannels(576, 2.2), 256);
  // Python's round() is half-to-even: 960 // 4 = 240, 240 / 32 = 7.5 -> 8.
  EXPECT_EQ(TransitionChannels(960, 4.0), 256);
  // 208 // 4 = 52 -> 1.625 -> 2; 144 // 4 = 36 -> 1.125 -> 1.
  EXPECT_EQ(TransitionChannels(144, 4.0), 32);
}

TEST(ArchTest, KnownAndUnknownNames) {
  for (const char* name : {"bdn28", "bdn37", "bdn45", "densenet28", "bdn-tiny"}) {
    EXPECT_TRUE(FindArch(name).ok()) << name;
  }
  auto a = FindArch("bdn28");
  EXPECT_TRUE(a->binary);
  EXPECT_EQ(a->layers, (std::vector<int>{6, 6, 6, 5}));
  EXPECT_FALSE(FindArch("densenet45")->binary);
  auto bad = FindArch("resnet50");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bdn28"), std::string::npos);
}

}  // namespace
}  // namespace fedsmear
