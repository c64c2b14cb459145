// FedAdam's saved state (stored in checkpoints): little-endian whatever the host, and refused
// when truncated or padded.
#include <gtest/gtest.h>

#include <cstring>

#include "coordinator/strategies.h"

namespace fedsmear {
namespace {

ModelState State(float w0, float w1) {
  ModelState s;
  s.meta = {"bdn-tiny", 2, 32, {}};
  s.tensors.push_back({"w", {2}, TensorKind::kFloat, {w0, w1}});
  return s;
}

uint64_t U64At(const std::string& b, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(b[at + i])} << (8 * i);
  return v;
}

float F32At(const std::string& b, size_t at) {
  uint32_t bits = 0;
  for (int i = 0; i < 4; ++i) bits |= uint32_t{static_cast<unsigned char>(b[at + i])} << (8 * i);
  float f = 0;
  std::memcpy(&f, &bits, 4);
  return f;
}

TEST(FedAdamStateTest, IsLittleEndianAndRoundTrips) {
  FedAdam s(1.0, 1, FedAdamParams{});
  auto agg = s.BeginAggregate(1, State(0, 0));
  ASSERT_TRUE(agg->Add({"a", 10, State(1, -2)}).ok());
  ASSERT_TRUE(agg->Finish({}).ok());
  const std::string bytes = s.SaveState();
  // u64 tensors = 1, u64 n = 2, 2 floats of m, 2 floats of v.
  ASSERT_EQ(bytes.size(), 8u + 8u + 2 * 2 * 4u);
  EXPECT_EQ(U64At(bytes, 0), 1u);
  EXPECT_EQ(U64At(bytes, 8), 2u);
  // First moment follows the delta's sign (m = (1 - beta1) * delta after one step); the second
  // moment is positive.
  EXPECT_GT(F32At(bytes, 16), 0.0f);
  EXPECT_LT(F32At(bytes, 20), 0.0f);
  EXPECT_GT(F32At(bytes, 24), 0.0f);
  EXPECT_GT(F32At(bytes, 28), 0.0f);
  FedAdam again(1.0, 1, FedAdamParams{});
  ASSERT_TRUE(again.LoadState(bytes).ok());
  EXPECT_EQ(again.SaveState(), bytes);
  // Truncated or padded state is refused before use.
  EXPECT_EQ(again.LoadState(bytes.substr(0, bytes.size() - 1)).code(), StatusCode::kCorrupt);
  EXPECT_EQ(again.LoadState(bytes + "x").code(), StatusCode::kCorrupt);
  EXPECT_EQ(again.LoadState(bytes.substr(0, 12)).code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace fedsmear
