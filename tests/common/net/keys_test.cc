// Key generation, key files and the allowlist parser.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "common/net/endpoint_config.h"
#include "common/net/keys.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

using testing::TempDir;

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(Keys, GenerateKeyPairIsValidAndConsistent) {
  ASSERT_TRUE(CurveAvailable());
  const KeyPair a = GenerateKeyPair();
  const KeyPair b = GenerateKeyPair();
  EXPECT_TRUE(ValidateZ85Key(a.public_key, "pub").ok());
  EXPECT_TRUE(ValidateZ85Key(a.secret_key, "sec").ok());
  EXPECT_NE(a.public_key, b.public_key);
  EXPECT_EQ(DerivePublicKey(a.secret_key).value(), a.public_key);
  EXPECT_EQ(KeyPrefix(a.public_key), a.public_key.substr(0, 8) + "...");
}

TEST(Keys, ValidateZ85KeyNamesTheProblem) {
  auto st = ValidateZ85Key("short", "server key");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("40 Z85 characters"), std::string::npos) << st;
  st = ValidateZ85Key(std::string(39, 'a') + "~", "server key");
  EXPECT_NE(st.message().find("'~'"), std::string::npos) << st;
}

TEST(Keys, WriteAndLoadKeyFiles) {
  TempDir dir;
  const KeyPair keys = GenerateKeyPair();
  ASSERT_TRUE(WriteKeyPairFiles(keys, dir.path(), "site-a", false).ok());
  struct stat st {};
  ASSERT_EQ(stat(dir.Sub("site-a.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto loaded = LoadSecretKeyFile(dir.Sub("site-a.key"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->public_key, keys.public_key);
  EXPECT_EQ(loaded->secret_key, keys.secret_key);
  EXPECT_EQ(LoadPublicKeyFile(dir.Sub("site-a.pub")).value(), keys.public_key);
  // The public key can also be read from the secret file.
  EXPECT_EQ(LoadPublicKeyFile(dir.Sub("site-a.key")).value(), keys.public_key);
  EXPECT_FALSE(ReadFile(dir.Sub("site-a.pub")).value().find("secret") != std::string::npos);
}

TEST(Keys, RefusesToOverwriteWithoutForce) {
  TempDir dir;
  const KeyPair first = GenerateKeyPair();
  ASSERT_TRUE(WriteKeyPairFiles(first, dir.path(), "coordinator", false).ok());
  const KeyPair second = GenerateKeyPair();
  auto st = WriteKeyPairFiles(second, dir.path(), "coordinator", false);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st;
  EXPECT_EQ(LoadSecretKeyFile(dir.Sub("coordinator.key"))->secret_key, first.secret_key);
  ASSERT_TRUE(WriteKeyPairFiles(second, dir.path(), "coordinator", true).ok());
  EXPECT_EQ(LoadSecretKeyFile(dir.Sub("coordinator.key"))->secret_key, second.secret_key);
  EXPECT_EQ(WriteKeyPairFiles(second, dir.path(), "../evil", true).code(),
            StatusCode::kInvalidArgument);
}

TEST(Keys, LoadRejectsBadFiles) {
  TempDir dir;
  const KeyPair a = GenerateKeyPair();
  const KeyPair b = GenerateKeyPair();
  WriteText(dir.Sub("short.key"), "secret-key = abc\n");
  WriteText(dir.Sub("mismatch.key"),
            "public-key = " + b.public_key + "\nsecret-key = " + a.secret_key + "\n");
  WriteText(dir.Sub("nosecret.key"), "public-key = " + a.public_key + "\n");
  WriteText(dir.Sub("garbage.pub"), "hello world\n");
  for (const char* f : {"short.key", "mismatch.key", "nosecret.key"}) {
    ASSERT_EQ(::chmod(dir.Sub(f).c_str(), 0600), 0);
  }
  EXPECT_NE(LoadSecretKeyFile(dir.Sub("short.key")).status().message().find("40 Z85"),
            std::string::npos);
  EXPECT_NE(LoadSecretKeyFile(dir.Sub("mismatch.key")).status().message().find("does not belong"),
            std::string::npos);
  EXPECT_NE(LoadSecretKeyFile(dir.Sub("nosecret.key")).status().message().find("secret-key"),
            std::string::npos);
  EXPECT_FALSE(LoadPublicKeyFile(dir.Sub("garbage.pub")).ok());
  EXPECT_EQ(LoadPublicKeyFile(dir.Sub("missing.pub")).status().code(), StatusCode::kNotFound);
}

TEST(AllowedSites, ParsesCommentsAndBlankLines) {
  const KeyPair a = GenerateKeyPair();
  const KeyPair b = GenerateKeyPair();
  auto sites = ParseAllowedSites("# consortium\n\nsite-a " + a.public_key +
                                 "  # Hospital A\n  site-b\t" + b.public_key + "\n");
  ASSERT_TRUE(sites.ok()) << sites.status();
  ASSERT_EQ(sites->size(), 2u);
  EXPECT_EQ((*sites)[0].site_id, "site-a");
  EXPECT_EQ((*sites)[0].public_key, a.public_key);
  EXPECT_EQ((*sites)[1].site_id, "site-b");
  EXPECT_EQ((*sites)[1].public_key, b.public_key);
}

TEST(AllowedSites, RejectsBadLinesWithLineNumbers) {
  const KeyPair a = GenerateKeyPair();
  const KeyPair b = GenerateKeyPair();
  auto r = ParseAllowedSites("site-a " + a.public_key + "\nsite-b notakey\n", "allowed");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("allowed:2:"), std::string::npos) << r.status();
  r = ParseAllowedSites("site-a " + a.public_key + "\nsite-a " + b.public_key + "\n");
  EXPECT_NE(r.status().message().find("appears twice"), std::string::npos) << r.status();
  r = ParseAllowedSites("site-a " + a.public_key + "\nsite-b " + a.public_key + "\n");
  EXPECT_NE(r.status().message().find("already listed"), std::string::npos) << r.status();
  r = ParseAllowedSites("lonely-site\n");
  EXPECT_FALSE(r.ok());
  r = ParseAllowedSites("bad/id " + a.public_key + "\n");
  EXPECT_FALSE(r.ok());
}

// Issue 16: secret key files others can read are refused, not warned about.
TEST(Keys, GroupOrWorldReadableSecretFilesAreRefused) {
  TempDir dir;
  ASSERT_TRUE(WriteKeyPairFiles(GenerateKeyPair(), dir.path(), "site-a", false).ok());
  ASSERT_TRUE(WriteSigningKeyFiles({std::string(64, 'b'), std::string(64, 'c')}, dir.path(),
                                   "site-a", false)
                  .ok());
  for (const char* f : {"site-a.key", "site-a.sign.key"}) {
    ASSERT_EQ(::chmod(dir.Sub(f).c_str(), 0640), 0);
  }
  auto secret = LoadSecretKeyFile(dir.Sub("site-a.key"));
  EXPECT_EQ(secret.status().code(), StatusCode::kPermissionDenied) << secret.status();
  EXPECT_NE(secret.status().message().find("chmod 600"), std::string::npos);
  EXPECT_EQ(LoadSigningKeyFile(dir.Sub("site-a.sign.key")).status().code(),
            StatusCode::kPermissionDenied);
  ASSERT_EQ(::chmod(dir.Sub("site-a.key").c_str(), 0600), 0);
  EXPECT_TRUE(LoadSecretKeyFile(dir.Sub("site-a.key")).ok());
}

// Issue 16: one Ed25519 key for two site ids would give one party two shares of every secret.
TEST(AllowedSites, OneSigningKeyForTwoSitesIsRefused) {
  const KeyPair a = GenerateKeyPair(), b = GenerateKeyPair();
  const std::string sign(64, 'a');
  auto dup = ParseAllowedSites("site-a " + a.public_key + " " + sign + "\nsite-b " +
                               b.public_key + " " + std::string(64, 'A') + "\n");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("already listed for another site"), std::string::npos)
      << dup.status();
}

TEST(AllowedSites, OptionalSigningKeyColumn) {
  const KeyPair a = GenerateKeyPair();
  const KeyPair b = GenerateKeyPair();
  const std::string sign(64, 'A');
  auto sites = ParseAllowedSites("site-a " + a.public_key + " " + sign + " # with key\nsite-b " +
                                 b.public_key + "\n");
  ASSERT_TRUE(sites.ok()) << sites.status();
  EXPECT_EQ((*sites)[0].sign_public_key, std::string(64, 'a'));  // canonical lowercase
  EXPECT_TRUE((*sites)[1].sign_public_key.empty());
  auto bad = ParseAllowedSites("site-a " + a.public_key + " " + std::string(63, 'a') + "\n", "al");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("al:1:"), std::string::npos) << bad.status();
  EXPECT_FALSE(ParseAllowedSites("site-a " + a.public_key + " " + sign + " extra\n").ok());
}

TEST(Keys, SigningKeyFiles) {
  TempDir dir;
  SigningKeyHex keys{std::string(64, 'b'), std::string(64, 'c')};
  ASSERT_TRUE(WriteSigningKeyFiles(keys, dir.path(), "site-a", false).ok());
  struct stat st {};
  ASSERT_EQ(::stat(dir.Sub("site-a.sign.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = LoadSigningKeyFile(dir.Sub("site-a.sign.key"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->public_key, keys.public_key);
  EXPECT_EQ(loaded->secret_seed, keys.secret_seed);
  EXPECT_EQ(*LoadSigningPublicKeyFile(dir.Sub("site-a.sign.pub")), keys.public_key);
  EXPECT_FALSE(LoadSigningKeyFile(dir.Sub("site-a.sign.pub")).ok());  // no secret line
  EXPECT_EQ(WriteSigningKeyFiles(keys, dir.path(), "site-a", false).code(),
            StatusCode::kFailedPrecondition);
  auto raw = HexDecodeKey(std::string(62, '0') + "ff", "k");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(static_cast<unsigned char>(raw->back()), 0xffu);
  EXPECT_EQ(HexEncode(*raw), std::string(62, '0') + "ff");
}

TEST(OptionsFromConfig, LoadKeyFilesAndAllowlist) {
  TempDir dir;
  const KeyPair coord = GenerateKeyPair();
  const KeyPair site = GenerateKeyPair();
  ASSERT_TRUE(WriteKeyPairFiles(coord, dir.path(), "coordinator", false).ok());
  ASSERT_TRUE(WriteKeyPairFiles(site, dir.path(), "site-a", false).ok());
  WriteText(dir.Sub("allowed_sites"), "site-a " + site.public_key + "\n");

  CoordinatorConfig cc;
  cc.secret_key_file = dir.Sub("coordinator.key");
  cc.allowed_sites_file = dir.Sub("allowed_sites");
  cc.max_message_mb = 8;
  auto ro = RouterOptionsFromConfig(cc);
  ASSERT_TRUE(ro.ok()) << ro.status();
  EXPECT_EQ(ro->server_keys.secret_key, coord.secret_key);
  ASSERT_EQ(ro->allowed_sites.size(), 1u);
  EXPECT_EQ(ro->max_message_bytes, 8 << 20);
  cc.allowed_sites_file.clear();
  EXPECT_EQ(RouterOptionsFromConfig(cc).status().code(), StatusCode::kInvalidArgument);
  cc.insecure = true;
  EXPECT_TRUE(RouterOptionsFromConfig(cc).ok());

  ClientConfig sc;
  sc.secret_key_file = dir.Sub("site-a.key");
  sc.coordinator_public_key_file = dir.Sub("coordinator.pub");
  auto dopt = DealerOptionsFromConfig(sc);
  ASSERT_TRUE(dopt.ok()) << dopt.status();
  EXPECT_EQ(dopt->server_public_key, coord.public_key);
  EXPECT_EQ(dopt->client_keys.public_key, site.public_key);
  sc.coordinator_public_key_file = dir.Sub("nope.pub");
  EXPECT_EQ(DealerOptionsFromConfig(sc).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace fedsmear
