// The attacker's view of the signed audit log (common/governance/audit_log.h, audit_verify.h):
// a cut tail, a deleted round re-chained, a forged entry, a wrong key, a log rewritten whole, and
// the anchors (a saved head, the coordinator's log) that catch what signatures alone cannot.
#include <gtest/gtest.h>

#include <fstream>
#include <optional>

#include "common/file_util.h"
#include "common/governance/audit_key.h"
#include "common/governance/audit_log.h"
#include "common/net/keys.h"
#include "common/sha256.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

using nlohmann::json;

std::string Canonical(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::vector<json> Entries(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

// Writes `entries` as a chain: renumbered, prev recomputed, and re-signed with `signer` when
// given (else each keeps whatever sig/signer it had, now over different bytes).
void Rechain(const std::string& path, std::vector<json> entries,
             const AuditSigner* signer = nullptr, bool strip = false) {
  std::string text, prev(64, '0');
  uint64_t seq = 0;
  for (json& e : entries) {
    e["seq"] = ++seq;
    e["prev"] = prev;
    if (strip) {
      e.erase("sig");
      e.erase("signer");
      e.erase("format");
    }
    if (signer) {
      e.erase("sig");
      e["signer"] = signer->public_hex();
      e["sig"] = *signer->Sign(Canonical(e));
    }
    const std::string line = Canonical(e);
    prev = ToHex(Sha256Of(line));
    text += line + "\n";
  }
  ASSERT_TRUE(WriteFileAtomic(path, text).ok());
}

bool Mentions(const AuditSummary& s, const std::string& text) {
  for (const auto& p : s.problems) {
    if (p.find(text) != std::string::npos) return true;
  }
  return false;
}

class SignedAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = AuditSigner::Generate();
    ASSERT_TRUE(key.ok()) << key.status();
    auto copy = AuditSigner::Generate();  // the attacker's
    ASSERT_TRUE(copy.ok());
    attacker_.emplace(std::move(*copy));
    site_key_ = key->public_hex();
    auto log = AuditLog::Open(path_, kDefaultAuditFileBytes, true, std::move(*key));
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE(log->Append("start", {{"site_id", "site-1"}}).ok());
    for (int r = 1; r <= 3; ++r) {
      ASSERT_TRUE(log->Append("task_received", {{"round", r}}).ok());
      ASSERT_TRUE(log->Append("sent", {{"round", r}, {"message", "update"}, {"bytes", 100 * r},
                                       {"sha256", ToHex(Sha256Of("update " + std::to_string(r)))}})
                      .ok());
    }
  }
  AuditSummary Verify(const AuditVerifyOptions& o = {}) {
    auto s = VerifyAudit(AuditFiles(path_), o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : AuditSummary{};
  }
  AuditVerifyOptions Pinned() const {
    AuditVerifyOptions o;
    o.keys = {site_key_};
    return o;
  }

  testing::TempDir dir_{"audit-sign"};
  std::string path_ = dir_.Sub("state/audit.jsonl");
  std::string site_key_;
  std::optional<AuditSigner> attacker_;
};

TEST_F(SignedAuditTest, IntactSignedLogVerifiesPinnedAndSaysWhatItProves) {
  AuditSummary s = Verify(Pinned());
  EXPECT_TRUE(s.chain_ok) << FormatAuditSummary(s);
  EXPECT_EQ(s.signing, AuditSigning::kSigned);
  EXPECT_EQ(s.signed_entries, 7u);
  EXPECT_TRUE(s.signers_pinned);
  EXPECT_EQ(s.site_id, "site-1");
  const std::string text = FormatAuditSummary(s);
  EXPECT_NE(text.find("7 entries signed by"), std::string::npos) << text;
  EXPECT_NE(text.find("anchored: no"), std::string::npos) << text;
  for (const json& e : Entries(path_)) EXPECT_EQ(e["format"], 2);
}

TEST_F(SignedAuditTest, CutTailPassesAloneButNotAgainstASavedHead) {
  auto head = AuditHead(AuditFiles(path_));
  ASSERT_TRUE(head.ok()) << head.status();
  const std::string anchor_file = dir_.Sub("anchors");
  ASSERT_TRUE(WriteFileAtomic(anchor_file, "# saved off-site\n" + FormatAnchor(*head) + "\n").ok());
  auto anchors = LoadAuditAnchors(anchor_file);
  ASSERT_TRUE(anchors.ok()) << anchors.status();
  ASSERT_EQ(anchors->size(), 1u);
  EXPECT_EQ((*anchors)[0].seq, 7u);

  AuditVerifyOptions o = Pinned();
  o.anchors = *anchors;
  AuditSummary intact = Verify(o);
  EXPECT_TRUE(intact.chain_ok) << FormatAuditSummary(intact);
  EXPECT_EQ(intact.anchored_seq, 7u);

  std::vector<json> entries = Entries(path_);
  entries.resize(5);  // round 3 cut off
  Rechain(path_, entries);  // the kept lines are unchanged: no key needed
  EXPECT_TRUE(Verify(Pinned()).chain_ok);  // signatures alone cannot see a cut
  AuditSummary cut = Verify(o);
  EXPECT_FALSE(cut.chain_ok);
  EXPECT_TRUE(Mentions(cut, "the tail was cut")) << FormatAuditSummary(cut);
}

TEST_F(SignedAuditTest, DeletedRoundRechainedWithoutTheKeyIsDetected) {
  std::vector<json> entries = Entries(path_);
  entries.erase(entries.begin() + 3, entries.begin() + 5);  // round 2
  Rechain(path_, entries);  // prev and seq fixed, signatures kept
  AuditSummary s = Verify();
  EXPECT_FALSE(s.chain_ok);
  EXPECT_TRUE(Mentions(s, "signature does not verify")) << FormatAuditSummary(s);
}

TEST_F(SignedAuditTest, RechainStrippedOfSignaturesIsDetected) {
  std::vector<json> entries = Entries(path_);
  entries.erase(entries.begin() + 3, entries.begin() + 5);
  // From round 2 on, unsigned: the signed entries before them stand out.
  std::vector<json> tail(entries.begin() + 3, entries.end());
  for (json& e : tail) e.erase("sig"), e.erase("signer");
  std::copy(tail.begin(), tail.end(), entries.begin() + 3);
  Rechain(path_, entries);
  EXPECT_FALSE(Verify().chain_ok);
  // The whole log as the older unsigned format: passes as "unsigned (older format)" on its own,
  // fails when the site's key is given.
  Rechain(path_, Entries(path_), nullptr, /*strip=*/true);
  AuditSummary alone = Verify();
  EXPECT_TRUE(alone.chain_ok);
  EXPECT_EQ(alone.signing, AuditSigning::kOlderFormat);
  EXPECT_NE(FormatAuditSummary(alone).find("unsigned (older format)"), std::string::npos);
  AuditSummary pinned = Verify(Pinned());
  EXPECT_FALSE(pinned.chain_ok);
  EXPECT_TRUE(Mentions(pinned, "the log is unsigned"));
}

TEST_F(SignedAuditTest, ForgedEntryIsDetected) {
  std::vector<json> entries = Entries(path_);
  // An edited field under the old signature.
  entries[2]["fields"]["bytes"] = 1;
  Rechain(path_, entries);
  EXPECT_TRUE(Mentions(Verify(), "signature does not verify"));
  // An inserted entry properly signed, but by another key.
  entries = Entries(path_);
  entries[2]["fields"]["bytes"] = 100;
  json forged = entries[2];
  forged["fields"]["sha256"] = std::string(64, 'f');
  forged["signer"] = attacker_->public_hex();
  entries.insert(entries.begin() + 3, forged);
  std::string text, prev(64, '0');
  uint64_t seq = 0;
  for (json& e : entries) {  // re-chained; only the forged entry is signed anew
    e["seq"] = ++seq;
    e["prev"] = prev;
    if (e["signer"] == attacker_->public_hex()) {
      e.erase("sig");
      e["sig"] = *attacker_->Sign(Canonical(e));
    }
    prev = ToHex(Sha256Of(Canonical(e)));
    text += Canonical(e) + "\n";
  }
  ASSERT_TRUE(WriteFileAtomic(path_, text).ok());
  AuditSummary s = Verify();
  EXPECT_FALSE(s.chain_ok);
  EXPECT_TRUE(Mentions(s, "signature does not verify"));  // the re-chained originals
}

TEST_F(SignedAuditTest, WrongKeyAndWholeRewriteUnderAnotherKey) {
  AuditVerifyOptions other;
  other.keys = {attacker_->public_hex()};
  AuditSummary wrong = Verify(other);
  EXPECT_FALSE(wrong.chain_ok);
  EXPECT_TRUE(Mentions(wrong, "not a key given with --key"));

  // Round 2 deleted and everything re-signed under the attacker's key: self-consistent, so only
  // the pinned key tells.
  std::vector<json> entries = Entries(path_);
  entries.erase(entries.begin() + 3, entries.begin() + 5);
  Rechain(path_, entries, &*attacker_);
  AuditSummary unpinned = Verify();
  EXPECT_TRUE(unpinned.chain_ok);
  EXPECT_FALSE(unpinned.signers_pinned);
  EXPECT_NE(FormatAuditSummary(unpinned).find("key not pinned"), std::string::npos);
  EXPECT_FALSE(Verify(Pinned()).chain_ok);

  // Re-signed from round 2 on only: the change of key inside the log shows even unpinned.
  ASSERT_TRUE(WriteFileAtomic(path_, "").ok());
  SetUp();
  entries = Entries(path_);
  std::string text, prev(64, '0');
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i >= 3) {
      entries[i]["prev"] = prev;
      entries[i].erase("sig");
      entries[i]["signer"] = attacker_->public_hex();
      entries[i]["sig"] = *attacker_->Sign(Canonical(entries[i]));
    }
    prev = ToHex(Sha256Of(Canonical(entries[i])));
    text += Canonical(entries[i]) + "\n";
  }
  ASSERT_TRUE(WriteFileAtomic(path_, text).ok());
  AuditSummary partial = Verify();
  EXPECT_FALSE(partial.chain_ok);
  EXPECT_TRUE(Mentions(partial, "the signing key changes")) << FormatAuditSummary(partial);
}

TEST_F(SignedAuditTest, TheCoordinatorsLogAnchorsTheSitesMessages) {
  const std::string peer = dir_.Sub("coordinator/audit.jsonl");
  {
    auto log = AuditLog::Open(peer);
    ASSERT_TRUE(log.ok());
    for (int r = 1; r <= 3; ++r) {
      ASSERT_TRUE(log->Append("received", {{"site", "site-1"}, {"message", "update"},
                                           {"sha256", ToHex(Sha256Of("update " + std::to_string(r)))}})
                      .ok());
      ASSERT_TRUE(log->Append("received", {{"site", "site-2"}, {"message", "update"},
                                           {"sha256", std::string(64, '2')}})
                      .ok());
    }
  }
  AuditVerifyOptions o = Pinned();
  o.peer_files = {peer};
  AuditSummary intact = Verify(o);
  EXPECT_TRUE(intact.chain_ok) << FormatAuditSummary(intact);
  EXPECT_EQ(intact.anchored_seq, 7u);  // the last "sent" entry

  // Even the key holder cannot drop round 3's update: the coordinator received it.
  std::vector<json> entries = Entries(path_);
  entries.resize(5);
  auto key_again = AuditSigner::Generate();  // stands for a re-signing key holder
  ASSERT_TRUE(key_again.ok());
  Rechain(path_, entries, &*key_again);
  o.keys = {key_again->public_hex()};
  AuditSummary cut = Verify(o);
  EXPECT_FALSE(cut.chain_ok);
  EXPECT_TRUE(Mentions(cut, "never recorded as sent")) << FormatAuditSummary(cut);

  // A broken peer log anchors nothing, and says so.
  std::ofstream(peer, std::ios::app) << "{\"seq\":99}\n";
  AuditSummary broken_peer = Verify(o);
  EXPECT_TRUE(Mentions(broken_peer, "is itself broken"));
}

TEST_F(SignedAuditTest, AnUnsignedWriterCannotContinueASignedLog) {
  auto unsigned_log = AuditLog::Open(path_);
  ASSERT_FALSE(unsigned_log.ok());
  EXPECT_NE(unsigned_log.status().message().find("signing_key_file"), std::string::npos);
}

TEST(AuditOlderFormatTest, UnsignedOlderLogsStillVerifyWithAClearVerdict) {
  testing::TempDir dir("audit-old");
  const std::string path = dir.Sub("audit.jsonl");
  std::string text, prev(64, '0');
  for (uint64_t seq = 1; seq <= 3; ++seq) {  // format 1: no "format", no signature
    const std::string line = Canonical(json{{"fields", {{"round", seq}}}, {"kind", "task_received"},
                                            {"prev", prev}, {"seq", seq},
                                            {"time", "2026-01-01T00:00:00.000Z"}});
    prev = ToHex(Sha256Of(line));
    text += line + "\n";
  }
  ASSERT_TRUE(WriteFileAtomic(path, text).ok());
  auto s = VerifyAudit({path});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->chain_ok) << FormatAuditSummary(*s);
  EXPECT_EQ(s->signing, AuditSigning::kOlderFormat);
  EXPECT_NE(FormatAuditSummary(*s).find("unsigned (older format)"), std::string::npos);

  // A writer with a key continues it; the signed entries chain over the older ones.
  auto key = AuditSigner::Generate();
  ASSERT_TRUE(key.ok());
  auto log = AuditLog::Open(path, kDefaultAuditFileBytes, true, std::move(*key));
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE(log->Append("start", json::object()).ok());
  auto mixed = VerifyAudit({path});
  ASSERT_TRUE(mixed.ok());
  EXPECT_TRUE(mixed->chain_ok) << FormatAuditSummary(*mixed);
  EXPECT_EQ(mixed->signing, AuditSigning::kSigned);
  EXPECT_EQ(mixed->unsigned_entries, 3u);

  // But an older-format line slipped in after them is tampering.
  const std::string last = Entries(path).back().dump();
  const std::string sneak = Canonical(json{{"fields", json::object()}, {"kind", "start"},
                                           {"prev", ToHex(Sha256Of(Canonical(json::parse(last))))},
                                           {"seq", 5}, {"time", "2026-01-01T00:00:00.000Z"}});
  std::ofstream(path, std::ios::app) << sneak << "\n";
  auto sneaked = VerifyAudit({path});
  ASSERT_TRUE(sneaked.ok());
  EXPECT_FALSE(sneaked->chain_ok);
}

TEST(AuditKeyTest, KeyFileSignsAndVerifies) {
  testing::TempDir dir("audit-key");
  auto bad = LoadAuditSigner(dir.Sub("missing.sign.key"));
  EXPECT_FALSE(bad.ok());
  // `fedsmear keygen`'s NAME.sign.key, as the site daemon loads it.
  auto made = AuditSigner::Generate();
  ASSERT_TRUE(made.ok());
  ASSERT_TRUE(WriteSigningKeyFiles({made->public_hex(), std::string(64, '1')}, dir.path().string(),
                                   "mismatch", true)
                  .ok());
  auto mismatch = LoadAuditSigner(dir.Sub("mismatch.sign.key"));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("does not belong"), std::string::npos);
  auto seeded = AuditSigner::FromSeed(std::string(32, '\x11'));
  ASSERT_TRUE(seeded.ok());
  ASSERT_TRUE(WriteSigningKeyFiles({seeded->public_hex(), std::string(64, '1')},
                                   dir.path().string(), "site-1", true)
                  .ok());
  auto key = LoadAuditSigner(dir.Sub("site-1.sign.key"));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->public_hex(), seeded->public_hex());
  auto sig = key->Sign("hello");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(AuditVerify(key->public_hex(), "hello", *sig).ok());
  EXPECT_EQ(AuditVerify(key->public_hex(), "hellO", *sig).code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(AuditVerify("zz", "hello", *sig).ok());
}

}  // namespace
}  // namespace fedsmear
