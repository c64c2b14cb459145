// The hash-chained audit log and its verifier (common/governance/audit_log.h).
#include "common/governance/audit_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

#include "common/file_util.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  ASSERT_TRUE(WriteFileAtomic(path, text).ok());
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = AuditLog::Open(path_);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int r = 1; r <= 3; ++r) {
      ASSERT_TRUE(
          log->Append("task_received", {{"round", r}, {"plan_hash", std::string(64, 'a')}}).ok());
      ASSERT_TRUE(log->Append("sent", {{"round", r}, {"message", "update"}, {"bytes", 1000 * r},
                                       {"secure", false}, {"secure_required", r == 3}})
                      .ok());
    }
  }
  AuditSummary Verify() {
    auto s = VerifyAudit(AuditFiles(path_));
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : AuditSummary{};
  }
  testing::TempDir dir_{"audit"};
  std::string path_ = dir_.Sub("state/audit.jsonl");
};

TEST_F(AuditLogTest, IntactChainVerifiesAndSummarises) {
  AuditSummary s = Verify();
  EXPECT_TRUE(s.chain_ok) << FormatAuditSummary(s);
  EXPECT_EQ(s.entries, 6u);
  EXPECT_EQ(s.first_seq, 1u);
  EXPECT_EQ(s.last_seq, 6u);
  EXPECT_EQ(s.rounds.size(), 3u);
  EXPECT_EQ(s.bytes_sent, 6000u);
  EXPECT_EQ(s.plain_updates_while_secure_required, 1u);
  const std::string text = FormatAuditSummary(s);
  EXPECT_NE(text.find("chain OK"), std::string::npos) << text;
  EXPECT_NE(text.find("6,000 bytes"), std::string::npos) << text;
}

TEST_F(AuditLogTest, KeyChangesBetweenStartsAreReported) {
  auto log = AuditLog::Open(path_);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE(log->Append("start", {{"signing_public_key", "k1"}}).ok());
  ASSERT_TRUE(log->Append("start", {{"signing_public_key", "k1"}}).ok());
  ASSERT_TRUE(log->Append("start", {{"signing_public_key", "k2"}}).ok());
  AuditSummary s = Verify();
  EXPECT_TRUE(s.chain_ok);
  ASSERT_EQ(s.key_changes.size(), 1u);
  EXPECT_EQ(s.key_changes[0], "signing_public_key changed at seq 9");
}

TEST_F(AuditLogTest, EditedLineIsDetected) {
  auto lines = Lines(path_);
  const size_t at = lines[3].find("\"bytes\":2000");
  ASSERT_NE(at, std::string::npos) << lines[3];
  lines[3].replace(at, 12, "\"bytes\":20");  // still canonical JSON, smaller figure
  WriteLines(path_, lines);
  AuditSummary s = Verify();
  EXPECT_FALSE(s.chain_ok);
  ASSERT_FALSE(s.problems.empty());
  EXPECT_NE(s.problems[0].find(":5:"), std::string::npos) << s.problems[0];  // the next line
}

TEST_F(AuditLogTest, RemovedLineIsDetected) {
  auto lines = Lines(path_);
  lines.erase(lines.begin() + 2);
  WriteLines(path_, lines);
  EXPECT_FALSE(Verify().chain_ok);
  auto tail = Lines(path_);  // removing the last line cannot be told from a shorter log...
  tail.pop_back();
  WriteLines(path_, tail);
  EXPECT_FALSE(Verify().chain_ok);  // ...but the earlier removal still shows
}

TEST_F(AuditLogTest, ReorderedLinesAreDetected) {
  auto lines = Lines(path_);
  std::swap(lines[1], lines[2]);
  WriteLines(path_, lines);
  EXPECT_FALSE(Verify().chain_ok);
}

TEST_F(AuditLogTest, TornLastLineStopsAppendingUntilMovedAside) {
  std::ofstream(path_, std::ios::app) << "{\"seq\":7,";
  EXPECT_FALSE(AuditLog::Open(path_).ok());
  EXPECT_FALSE(Verify().chain_ok);
}

TEST(AuditLogRotationTest, RotationKeepsTheChainAcrossFiles) {
  testing::TempDir dir("audit-rot");
  const std::string path = dir.Sub("audit.jsonl");
  auto log = AuditLog::Open(path, 4096);
  ASSERT_TRUE(log.ok());
  // A second handle, as `fedsmear-client plan approve` holds while the daemon runs.
  auto other = AuditLog::Open(path, 4096);
  ASSERT_TRUE(other.ok());
  for (int i = 0; i < 120; ++i) {
    AuditLog& writer = i % 3 == 0 ? *other : *log;
    ASSERT_TRUE(writer.Append("sent", {{"round", i / 10 + 1}, {"bytes", 10}, {"message", "update"},
                                       {"description", std::string(60, 'x')}})
                    .ok());
  }
  std::vector<std::string> files = AuditFiles(path);
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(files.back(), path);
  std::reverse(files.begin(), files.end());  // any order: sorted by first seq
  auto s = VerifyAudit(files);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->chain_ok) << FormatAuditSummary(*s);
  EXPECT_EQ(s->entries, 120u);
  EXPECT_EQ(s->bytes_sent, 1200u);

  // Without the oldest file the rest still chains (noted); without a middle one it breaks.
  std::vector<std::string> ordered = AuditFiles(path);
  auto later = VerifyAudit({ordered.begin() + 1, ordered.end()});
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->chain_ok);
  EXPECT_FALSE(later->notes.empty());
  std::vector<std::string> gap = ordered;
  gap.erase(gap.begin() + 1);
  auto broken = VerifyAudit(gap);
  ASSERT_TRUE(broken.ok());
  EXPECT_FALSE(broken->chain_ok);
}

}  // namespace
}  // namespace fedsmear
