// tools/enrol_commands.h through the command line, as `fedsmear` parses it: kit make, enrol at
// the site, kit fingerprint, admit only with the fingerprint the site reads out, revoke.
#include "tools/enrol_commands.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/file_util.h"
#include "common/net/keys.h"
#include "tests/temp_dir.h"
#include "tests/tools/cli_run.h"

namespace fedsmear {
namespace {

// `fedsmear ARGS...` with the two commands.
CliRun Fedsmear(const std::vector<std::string>& args) {
  return RunCli({&AddKitCommand, &AddEnrolCommand}, args);
}

// The value after "label: " up to the end of its line (or the next blank).
std::string After(const std::string& text, const std::string& label) {
  const size_t at = text.find(label);
  if (at == std::string::npos) return "";
  const size_t start = at + label.size();
  return text.substr(start, text.find_first_of(" \n", start) - start);
}

TEST(EnrolCommandsTest, FromKitToAdmissionAndRevocation) {
  testing::TempDir dir("fedsmear-enrol-cli");
  ASSERT_TRUE(WriteKeyPairFiles(GenerateKeyPair(), dir.Sub("op"), "coordinator", false).ok());
  const std::string allowlist = dir.Sub("op/allowed_sites");
  ASSERT_TRUE(WriteFileAtomic(allowlist, "# consortium\n", 0640).ok());

  CliRun make = Fedsmear({"kit", "make", "--site-id", "hosp-7", "--coordinator-endpoint",
                       "tcp://coord.example.org:7878", "--out", dir.Sub("kit"),
                       "--coordinator-key", dir.Sub("op/coordinator.pub"), "--roster", allowlist,
                       "--site-etc", dir.Sub("etc"), "--site-state", dir.Sub("state"),
                       "--site-data", dir.Sub("images")});
  ASSERT_EQ(make.code, 0) << make.out;
  const std::string coordinator_fp = After(make.out, "coordinator fingerprint: ");
  ASSERT_EQ(coordinator_fp.size(), 24u) << make.out;

  // The site refuses a kit whose coordinator fingerprint is not the one it was told.
  CliRun wrong = Fedsmear({"enrol", "--kit", dir.Sub("kit"), "--config", dir.Sub("etc/client.yaml"),
                        "--owner", "", "--coordinator-fingerprint", "0000-0000-0000-0000-0000"});
  EXPECT_EQ(wrong.code, 1);
  CliRun enrol = Fedsmear({"enrol", "--kit", dir.Sub("kit"), "--config", dir.Sub("etc/client.yaml"),
                        "--owner", "", "--coordinator-fingerprint", coordinator_fp});
  ASSERT_EQ(enrol.code, 0) << enrol.out;
  EXPECT_EQ(After(enrol.out, "coordinator fingerprint: "), coordinator_fp);
  const std::string site_fp = After(enrol.out, "this site's fingerprint: ");
  ASSERT_EQ(site_fp.size(), 24u) << enrol.out;
  const std::string request = dir.Sub("etc/keys/site.request");

  CliRun shown = Fedsmear({"kit", "fingerprint", request});
  ASSERT_EQ(shown.code, 0);
  EXPECT_EQ(After(shown.out, "site fingerprint: "), site_fp);
  EXPECT_EQ(After(Fedsmear({"kit", "fingerprint", dir.Sub("kit")}).out,
                  "coordinator fingerprint: "), coordinator_fp);

  EXPECT_EQ(Fedsmear({"kit", "admit", request, "--allowlist", allowlist, "--fingerprint",
                      "1111-2222-3333-4444-5555"}).code, 1);
  EXPECT_EQ(Fedsmear({"kit", "admit", request, "--allowlist", allowlist}).code, 2);  // no FP
  CliRun admit = Fedsmear({"kit", "admit", request, "--allowlist", allowlist, "--fingerprint",
                        site_fp});
  ASSERT_EQ(admit.code, 0) << admit.out;
  auto sites = LoadAllowedSites(allowlist);
  ASSERT_TRUE(sites.ok()) << sites.status();
  ASSERT_EQ(sites->size(), 1u);
  EXPECT_EQ((*sites)[0].site_id, "hosp-7");

  EXPECT_EQ(Fedsmear({"kit", "revoke", "hosp-7", "--allowlist", allowlist}).code, 0);
  EXPECT_TRUE(LoadAllowedSites(allowlist)->empty());
  EXPECT_EQ(Fedsmear({"kit", "revoke", "hosp-7", "--allowlist", allowlist}).code, 1);
}

}  // namespace
}  // namespace fedsmear
