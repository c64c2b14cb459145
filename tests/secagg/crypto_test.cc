// Primitives: AES-CTR PRG, AES-GCM, Ed25519, X25519, HKDF.
#include "secagg/crypto.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <string>

#include "secagg/prg.h"

namespace fedsmear::secagg {
namespace {

Bytes FromHex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

Secret32 KeyFromHex(const std::string& hex) {
  const Bytes b = FromHex(hex);
  std::array<uint8_t, 32> a{};
  std::copy(b.begin(), b.end(), a.begin());
  return Secret32(a);
}

Secret32 TestKey(uint8_t base) {
  std::array<uint8_t, 32> a{};
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(base + i);
  return Secret32(a);
}

TEST(AesCtrPrgTest, DeterministicAndSeedDependent) {
  auto a = ExpandSeed32(TestKey(1), 5000);
  auto b = ExpandSeed32(TestKey(1), 5000);
  auto c = ExpandSeed32(TestKey(2), 5000);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

TEST(AesCtrPrgTest, MatchesOpenSslSingleShot) {
  // 200,003 words crosses several 64 KiB generation blocks and ends mid-block.
  const size_t words = 200003;
  const Secret32 key = TestKey(7);
  auto prg_words = ExpandSeed32(key, words);
  ASSERT_TRUE(prg_words.ok());

  std::vector<uint8_t> zeros(words * 4, 0), ref(words * 4, 0);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const uint8_t iv[16] = {0};
  int len = 0;
  ASSERT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), nullptr, key.data(), iv), 1);
  ASSERT_EQ(EVP_EncryptUpdate(ctx, ref.data(), &len, zeros.data(), static_cast<int>(zeros.size())),
            1);
  EVP_CIPHER_CTX_free(ctx);
  ASSERT_EQ(static_cast<size_t>(len), ref.size());
  for (size_t i = 0; i < words; ++i) {
    const uint32_t expect = uint32_t{ref[4 * i]} | uint32_t{ref[4 * i + 1]} << 8 |
                            uint32_t{ref[4 * i + 2]} << 16 | uint32_t{ref[4 * i + 3]} << 24;
    ASSERT_EQ((*prg_words)[i], expect) << "word " << i;
  }
}

TEST(AesCtrPrgTest, NistSp800_38aKnownAnswer) {
  // SP 800-38A F.5.5 CTR-AES256.Encrypt, block 1: keystream = ciphertext XOR plaintext.
  const Secret32 key =
      KeyFromHex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
  std::array<uint8_t, 16> iv{};
  const Bytes iv_bytes = FromHex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  std::copy(iv_bytes.begin(), iv_bytes.end(), iv.begin());
  auto prg = AesCtrPrg::Create(key, iv);
  ASSERT_TRUE(prg.ok());
  uint8_t stream[16];
  ASSERT_TRUE(prg->Fill(stream, 16).ok());
  const Bytes plain = FromHex("6bc1bee22e409f96e93d7e117393172a");
  const Bytes cipher = FromHex("601ec313775789a5b7a7f504bbf3d228");
  for (int i = 0; i < 16; ++i) EXPECT_EQ(stream[i] ^ plain[i], cipher[i]) << i;
}

TEST(AesCtrPrgTest, StreamIsContinuousAcrossCalls) {
  auto prg = AesCtrPrg::Create(TestKey(3));
  ASSERT_TRUE(prg.ok());
  std::vector<uint8_t> pieces(100000);
  ASSERT_TRUE(prg->Fill(pieces.data(), 3).ok());
  ASSERT_TRUE(prg->Fill(pieces.data() + 3, 70000).ok());
  ASSERT_TRUE(prg->Fill(pieces.data() + 70003, pieces.size() - 70003).ok());
  auto whole = AesCtrPrg::Create(TestKey(3));
  std::vector<uint8_t> once(pieces.size());
  ASSERT_TRUE(whole->Fill(once.data(), once.size()).ok());
  EXPECT_EQ(pieces, once);
}

TEST(AesCtrPrgTest, AddMaskAddsAndSubtractsTheStream) {
  const size_t n = 70001;
  std::vector<uint32_t> data(n);
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint32_t>(i * 2654435761u);
  const std::vector<uint32_t> original = data;
  auto stream = ExpandSeed32(TestKey(9), n);
  ASSERT_TRUE(AddMask(TestKey(9), false, data.data(), n).ok());
  for (size_t i = 0; i < n; i += 997) EXPECT_EQ(data[i], original[i] + (*stream)[i]);
  ASSERT_TRUE(AddMask(TestKey(9), true, data.data(), n).ok());
  EXPECT_EQ(data, original);
  ReduceMod(12, data.data(), n);
  for (uint32_t v : data) ASSERT_LT(v, 4096u);
}

TEST(AesGcmTest, RoundTripAndTamperDetection) {
  const Secret32 key = TestKey(11);
  const Bytes aad = {1, 2, 3};
  const std::string msg = "share of b and share of s_sk";
  auto sealed = AesGcmSeal(key, aad, reinterpret_cast<const uint8_t*>(msg.data()), msg.size());
  ASSERT_TRUE(sealed.ok());
  auto opened = AesGcmOpen(key, aad, *sealed);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(std::string(opened->bytes().begin(), opened->bytes().end()), msg);

  for (size_t pos : {size_t{0}, kGcmNonceBytes + 3, sealed->size() - 1}) {  // nonce, ct, tag
    Bytes bad = *sealed;
    bad[pos] ^= 0x01;
    auto r = AesGcmOpen(key, aad, bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  }
  EXPECT_EQ(AesGcmOpen(key, Bytes{1, 2, 4}, *sealed).status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(AesGcmOpen(TestKey(12), aad, *sealed).status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(AesGcmOpen(key, aad, Bytes(10, 0)).status().code(), StatusCode::kCorrupt);
}

TEST(Ed25519Test, SignVerifyAndRejectWrongSignature) {
  auto alice = Ed25519KeyPair::Generate();
  auto bob = Ed25519KeyPair::Generate();
  ASSERT_TRUE(alice.ok() && bob.ok());
  const Bytes msg = {'k', 'e', 'y', 's'};
  auto sig = alice->Sign(msg);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Ed25519Verify(alice->public_key(), msg, *sig).ok());

  Signature64 bad_sig = *sig;
  bad_sig[10] ^= 0x40;
  EXPECT_EQ(Ed25519Verify(alice->public_key(), msg, bad_sig).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Ed25519Verify(alice->public_key(), Bytes{'k', 'e', 'y', 'S'}, *sig).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Ed25519Verify(bob->public_key(), msg, *sig).code(), StatusCode::kPermissionDenied);
}

TEST(Ed25519Test, DeterministicFromSeed) {
  auto a = Ed25519KeyPair::FromPrivate(TestKey(5));
  auto b = Ed25519KeyPair::FromPrivate(TestKey(5));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->public_key(), b->public_key());
  EXPECT_EQ(*a->Sign({1}), *b->Sign({1}));  // Ed25519 signatures are deterministic
}

TEST(X25519Test, AgreementIsSymmetric) {
  auto a = X25519KeyPair::Generate();
  auto b = X25519KeyPair::Generate();
  auto c = X25519KeyPair::Generate();
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  auto ab = a->Agree(b->public_key());
  auto ba = b->Agree(a->public_key());
  auto ac = a->Agree(c->public_key());
  ASSERT_TRUE(ab.ok() && ba.ok() && ac.ok());
  EXPECT_EQ(*ab, *ba);
  EXPECT_NE(*ab, *ac);

  auto priv = a->private_key();
  ASSERT_TRUE(priv.ok());
  auto a2 = X25519KeyPair::FromPrivate(*priv);
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(a2->public_key(), a->public_key());
  EXPECT_EQ(*a2->Agree(b->public_key()), *ab);
}

TEST(X25519Test, RejectsSmallOrderPeerKey) {
  auto a = X25519KeyPair::Generate();
  ASSERT_TRUE(a.ok());
  PublicKey32 zero{};  // the identity point: shared secret would be all zeros
  EXPECT_EQ(a->Agree(zero).status().code(), StatusCode::kCorrupt);
}

TEST(HkdfTest, Rfc5869TestCase1) {
  const Bytes ikm(22, 0x0b);
  const Bytes salt = FromHex("000102030405060708090a0b0c");
  const Bytes info = FromHex("f0f1f2f3f4f5f6f7f8f9");
  auto okm = HkdfSha256(ikm.data(), ikm.size(),
                        std::string_view(reinterpret_cast<const char*>(salt.data()), salt.size()),
                        info, 42);
  ASSERT_TRUE(okm.ok()) << okm.status();
  EXPECT_EQ(okm->bytes(), FromHex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                                  "34007208d5b887185865"));
}

}  // namespace
}  // namespace fedsmear::secagg
