// common/net/key_fingerprint.h: format, stability (known answer), sensitivity to every field.
#include "common/net/key_fingerprint.h"

#include <gtest/gtest.h>

#include <regex>

#include "common/sha256.h"

namespace fedsmear {
namespace {

// The Z85 text of 32 zero bytes.
const std::string kZeroKey(40, '0');
const std::string kSignKey(64, 'a');

TEST(KeyFingerprintTest, IsFiveGroupsOfFourHexDigits) {
  const KeyPair keys = GenerateKeyPair();
  auto fp = KeyFingerprint(keys.public_key);
  ASSERT_TRUE(fp.ok()) << fp.status();
  EXPECT_TRUE(std::regex_match(*fp, std::regex("[0-9a-f]{4}(-[0-9a-f]{4}){4}"))) << *fp;
}

TEST(KeyFingerprintTest, IsTheFirst80BitsOfTheKeysSha256) {
  auto fp = KeyFingerprint(kZeroKey);
  ASSERT_TRUE(fp.ok()) << fp.status();
  const std::string hex = ToHex(Sha256Of(std::string(32, '\0')));
  EXPECT_EQ(*fp, hex.substr(0, 4) + "-" + hex.substr(4, 4) + "-" + hex.substr(8, 4) + "-" +
                     hex.substr(12, 4) + "-" + hex.substr(16, 4));
  // SHA-256 of 32 zero bytes starts 66687aadf862bd776c8f...
  EXPECT_EQ(*fp, "6668-7aad-f862-bd77-6c8f");
}

TEST(KeyFingerprintTest, RejectsMalformedKeys) {
  EXPECT_EQ(KeyFingerprint("short").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KeyFingerprint(std::string(40, '~')).status().code(), StatusCode::kInvalidArgument);
  AllowedSite bad{"site-a", kZeroKey, "zz"};
  EXPECT_FALSE(SiteFingerprint(bad).ok());
}

TEST(KeyFingerprintTest, SiteFingerprintCoversIdAndBothKeys) {
  const KeyPair keys = GenerateKeyPair();
  const AllowedSite site{"site-a", keys.public_key, kSignKey};
  auto fp = SiteFingerprint(site);
  ASSERT_TRUE(fp.ok()) << fp.status();
  EXPECT_EQ(*SiteFingerprint(site), *fp);  // deterministic
  EXPECT_NE(*fp, *KeyFingerprint(keys.public_key));
  EXPECT_NE(*SiteFingerprint({"site-b", keys.public_key, kSignKey}), *fp);
  EXPECT_NE(*SiteFingerprint({"site-a", GenerateKeyPair().public_key, kSignKey}), *fp);
  EXPECT_NE(*SiteFingerprint({"site-a", keys.public_key, std::string(64, 'b')}), *fp);
  EXPECT_NE(*SiteFingerprint({"site-a", keys.public_key, ""}), *fp);
}

TEST(KeyFingerprintTest, MatchingIgnoresCaseBlanksAndDashes) {
  EXPECT_TRUE(FingerprintsMatch("3f2a-91c0-77d1-0b4e-a2c9", "3F2A 91C0 77D1 0B4E A2C9"));
  EXPECT_TRUE(FingerprintsMatch("3f2a-91c0-77d1-0b4e-a2c9", "3f2a91c077d10b4ea2c9"));
  EXPECT_FALSE(FingerprintsMatch("3f2a-91c0-77d1-0b4e-a2c9", "3f2a-91c0-77d1-0b4e-a2c8"));
  EXPECT_FALSE(FingerprintsMatch("", "--"));
}

}  // namespace
}  // namespace fedsmear
