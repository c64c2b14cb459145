// common/governance/enrolment.h: a kit made by the operator, enrolled at a site (keys made
// there, config with the real site id, coordinator key and roster installed, request written),
// admitted into the allowlist with the same fingerprint on both sides; keys kept on a second
// enrolment and replaced with new_key; tampered kits refused.
#include "common/governance/enrolment.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/config.h"
#include "common/file_util.h"
#include "common/net/allowlist_edit.h"
#include "common/net/key_fingerprint.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

class EnrolmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(WriteKeyPairFiles(coordinator_, dir_.Sub("op"), "coordinator", false).ok());
    // Two sites already in the consortium: their Ed25519 keys go into the kit's roster.
    ASSERT_TRUE(AdmitSite(Allowlist(), {"hosp-1", GenerateKeyPair().public_key,
                                        std::string(64, '1')}, false).ok());
    ASSERT_TRUE(AdmitSite(Allowlist(), {"hosp-2", GenerateKeyPair().public_key, ""}, false).ok());
  }
  std::string Allowlist() const { return dir_.Sub("op/allowed_sites"); }
  KitRequest Request() const {
    KitRequest r;
    r.site_id = "hosp-3";
    r.coordinator_endpoint = "tcp://coord.example.org:7878";
    r.coordinator_public_key_file = dir_.Sub("op/coordinator.pub");
    r.roster_source = Allowlist();
    r.etc_dir = dir_.Sub("site/etc");
    r.state_dir = dir_.Sub("site/state");
    r.data_root = dir_.Sub("site/images");
    return r;
  }
  EnrolOptions Enrol() const {
    EnrolOptions o;
    o.kit_dir = dir_.Sub("kit");
    o.config_path = dir_.Sub("site/etc/client.yaml");
    return o;
  }
  Result<Enrolment> MakeAndEnrol() {
    auto kit = MakeSiteKit(Request());
    if (!kit.ok()) return kit.status();
    RETURN_IF_ERROR(WriteSiteKit(*kit, dir_.Sub("kit")));
    return EnrolSite(Enrol());
  }

  testing::TempDir dir_{"fedsmear-enrol"};
  const KeyPair coordinator_ = GenerateKeyPair();
};

TEST_F(EnrolmentTest, KitCarriesTheCoordinatorKeyRosterAndTheSitesConfig) {
  auto kit = MakeSiteKit(Request());
  ASSERT_TRUE(kit.ok()) << kit.status();
  EXPECT_EQ(kit->coordinator_public_key, coordinator_.public_key);
  EXPECT_EQ(kit->coordinator_fingerprint, *KeyFingerprint(coordinator_.public_key));
  EXPECT_EQ(kit->roster, "hosp-1 " + std::string(64, '1') + "\n");  // hosp-2 has no Ed25519 key
  ASSERT_TRUE(WriteSiteKit(*kit, dir_.Sub("kit")).ok());
  EXPECT_EQ(WriteSiteKit(*kit, dir_.Sub("kit")).code(), StatusCode::kFailedPrecondition);
  auto read = ReadSiteKit(dir_.Sub("kit"));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->site_id, "hosp-3");
  EXPECT_EQ(read->coordinator_endpoint, "tcp://coord.example.org:7878");
  auto config = LoadClientConfig(dir_.Sub("kit/client.yaml"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->site_id, "hosp-3");
  EXPECT_EQ(config->secret_key_file, dir_.Sub("site/etc") + "/keys/site.key");
  EXPECT_EQ(config->policy.secagg_roster_file, dir_.Sub("site/etc") + "/roster");
}

TEST_F(EnrolmentTest, BadRequestsAreRefused) {
  KitRequest r = Request();
  r.site_id = "site-a";  // the shipped placeholder
  EXPECT_EQ(MakeSiteKit(r).status().code(), StatusCode::kInvalidArgument);
  r = Request();
  r.coordinator_endpoint = "tcp://0.0.0.0:7878";
  EXPECT_EQ(MakeSiteKit(r).status().code(), StatusCode::kInvalidArgument);
  r.coordinator_endpoint = "coord:7878";
  EXPECT_EQ(MakeSiteKit(r).status().code(), StatusCode::kInvalidArgument);
  r = Request();
  r.etc_dir = "relative/etc";
  EXPECT_EQ(MakeSiteKit(r).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(EnrolmentTest, EnrolMakesKeysAndARequestTheOperatorAdmits) {
  auto e = MakeAndEnrol();
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->keys_created);
  EXPECT_EQ(e->request.site_id, "hosp-3");
  EXPECT_EQ(e->coordinator_fingerprint, *KeyFingerprint(coordinator_.public_key));
  // Keys: private to their owner, and the ones the request names.
  const std::string keys = dir_.Sub("site/etc/keys");
  struct stat st {};
  ASSERT_EQ(::stat((keys + "/site.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(LoadSecretKeyFile(keys + "/site.key")->public_key, e->request.public_key);
  EXPECT_EQ(LoadSigningKeyFile(keys + "/site.sign.key")->public_key, e->request.sign_public_key);
  EXPECT_EQ(*LoadPublicKeyFile(keys + "/coordinator.pub"), coordinator_.public_key);
  // The installed config loads with the real id, and the roster has the site itself.
  auto config = LoadClientConfig(e->config_file);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->site_id, "hosp-3");
  auto roster = LoadSigningRoster(config->policy.secagg_roster_file);
  ASSERT_TRUE(roster.ok()) << roster.status();
  EXPECT_EQ(roster->size(), 2u);
  EXPECT_EQ(roster->count("hosp-3"), 1u);
  // The operator reads the request: same id, keys and fingerprint, and admits it.
  auto request = ReadEnrolmentRequest(e->request_file);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->site_id, "hosp-3");
  EXPECT_EQ(*SiteFingerprint(*request), e->fingerprint);
  EXPECT_NE(ReadFile(e->request_file)->find(e->fingerprint), std::string::npos);
  ASSERT_EQ(*AdmitSite(Allowlist(), *request, false), AllowlistChange::kAdded);
  auto allowed = LoadAllowedSites(Allowlist());
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_EQ(allowed->back().site_id, "hosp-3");  // the real id, not "site"
}

TEST_F(EnrolmentTest, ASecondEnrolmentKeepsTheKeysUnlessANewKeyIsAsked) {
  auto first = MakeAndEnrol();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(WriteFileAtomic(dir_.Sub("site/etc/client.yaml"), "# edited\n").ok());
  auto again = EnrolSite(Enrol());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->keys_created);
  EXPECT_EQ(again->fingerprint, first->fingerprint);
  EXPECT_EQ(again->previous_config, dir_.Sub("site/etc/client.yaml") + ".before-enrol");
  EnrolOptions rotate = Enrol();
  rotate.new_key = true;
  auto rotated = EnrolSite(rotate);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_TRUE(rotated->keys_created);
  EXPECT_NE(rotated->request.public_key, first->request.public_key);
  EXPECT_NE(rotated->fingerprint, first->fingerprint);
  // The operator's side of the rotation: the same id with new keys needs replace.
  ASSERT_TRUE(AdmitSite(Allowlist(), first->request, false).ok());
  EXPECT_FALSE(AdmitSite(Allowlist(), rotated->request, false).ok());
  EXPECT_EQ(*AdmitSite(Allowlist(), rotated->request, true), AllowlistChange::kReplaced);
}

TEST_F(EnrolmentTest, ATamperedKitIsRefused) {
  auto kit = MakeSiteKit(Request());
  ASSERT_TRUE(kit.ok()) << kit.status();
  ASSERT_TRUE(WriteSiteKit(*kit, dir_.Sub("kit")).ok());
  // Another coordinator key without a matching fingerprint.
  ASSERT_TRUE(WriteFileAtomic(dir_.Sub("kit/coordinator.pub"),
                              "public-key = " + GenerateKeyPair().public_key + "\n").ok());
  EXPECT_EQ(ReadSiteKit(dir_.Sub("kit")).status().code(), StatusCode::kCorrupt);
  EXPECT_FALSE(EnrolSite(Enrol()).ok());
  struct stat st {};
  EXPECT_NE(::stat(dir_.Sub("site/etc/keys/site.key").c_str(), &st), 0);  // nothing made
}

TEST_F(EnrolmentTest, AConfigForAnotherSiteIsRefused) {
  auto kit = MakeSiteKit(Request());
  ASSERT_TRUE(kit.ok()) << kit.status();
  kit->site_config.replace(kit->site_config.find("site_id: hosp-3"), 15, "site_id: hosp-9");
  ASSERT_TRUE(WriteSiteKit(*kit, dir_.Sub("kit")).ok());
  EXPECT_EQ(ReadSiteKit(dir_.Sub("kit")).status().code(), StatusCode::kCorrupt);
}

TEST_F(EnrolmentTest, ARequestIsOneLineWithBothKeys) {
  ASSERT_TRUE(WriteFileAtomic(dir_.Sub("req"), "hosp-3 " + GenerateKeyPair().public_key + "\n")
                  .ok());
  EXPECT_EQ(ReadEnrolmentRequest(dir_.Sub("req")).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedsmear
