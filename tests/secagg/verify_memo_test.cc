// VerifyMemo: a shared memo of Ed25519 verifications answers exactly as the maths does.
#include "secagg/verify_memo.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace fedsmear::secagg {
namespace {

Bytes Msg(const std::string& s) { return Bytes(s.begin(), s.end()); }

Ed25519KeyPair NewKey() {
  auto k = Ed25519KeyPair::Generate();
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  return std::move(k).value();
}

TEST(VerifyMemoTest, RemembersOnlySuccessesAndNeverAcceptsWhatTheMathsRefuses) {
  Ed25519KeyPair a = NewKey(), b = NewKey();
  const Bytes m = Msg("round 3 keys of site 7");
  auto sig = a.Sign(m);
  ASSERT_TRUE(sig.ok());
  VerifyMemo memo;
  EXPECT_TRUE(memo.Verify(a.public_key(), m, *sig).ok());
  EXPECT_TRUE(memo.Verify(a.public_key(), m, *sig).ok());
  EXPECT_EQ(memo.computed(), 1u);
  EXPECT_EQ(memo.remembered(), 1u);

  // Another key, an altered message or an altered signature is verified in full and refused,
  // every time (failures are not remembered).
  Signature64 forged = *sig;
  forged[5] ^= 1;
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(memo.Verify(b.public_key(), m, *sig).ok());
    EXPECT_FALSE(memo.Verify(a.public_key(), Msg("round 3 keys of site 8"), *sig).ok());
    EXPECT_FALSE(memo.Verify(a.public_key(), m, forged).ok());
  }
  EXPECT_EQ(memo.computed(), 7u);
  EXPECT_EQ(memo.remembered(), 1u);
  // Without a memo, the same answers.
  EXPECT_TRUE(VerifySignature(nullptr, a.public_key(), m, *sig).ok());
  EXPECT_FALSE(VerifySignature(nullptr, a.public_key(), m, forged).ok());
}

TEST(VerifyMemoTest, ForgetsWhenFullAndIsSafeAcrossThreads) {
  Ed25519KeyPair a = NewKey();
  std::vector<Bytes> messages;
  std::vector<Signature64> sigs;
  for (int i = 0; i < 8; ++i) {
    messages.push_back(Msg("message " + std::to_string(i)));
    auto s = a.Sign(messages.back());
    ASSERT_TRUE(s.ok());
    sigs.push_back(*s);
  }
  VerifyMemo memo(/*max_entries=*/4);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < messages.size(); ++i) {
          if (!memo.Verify(a.public_key(), messages[i], sigs[i]).ok()) ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(memo.computed() + memo.remembered(), 4u * 3u * 8u);
  EXPECT_GE(memo.computed(), 8u);  // the memo holds at most 4, so some ran again
}

}  // namespace
}  // namespace fedsmear::secagg
