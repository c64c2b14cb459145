// The stage traffic of a SecureRound (coordinator/secure_attempt_impl.h): each stage's answers
// (keys, shares, masked inputs, consistency signatures, unmask responses) checked against the
// round and stage, sites that fail or leave, and the relays of keys and shares between stages.
// Thread-safety: the coordinator's round loop only.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <set>

#include "common/sha256.h"
#include "coordinator/secure_attempt_impl.h"
#include "coordinator/secure_round.h"
#include "models/bn_statistics.h"
#include "secagg/session_ledger.h"
#include "secagg/site_secagg.h"
#include "secagg/site_secagg_wire.h"
#include "secagg/votes.h"

namespace fedsmear {
namespace secure_attempt_internal {

void SecureRound::Fail(uint32_t id, Status why) {
  if (!failed_.insert(id).second) return;
  waiting_.erase(id);
  spdlog::warn("round {}: site {} left the secure aggregation: {}", round_, ids_[id - 1],
               why.message());
  out_.failures.push_back({ids_[id - 1], std::move(why)});
}

bool SecureRound::Send(uint32_t id, wire::Body body, uint64_t* counter) {
  uint64_t bytes = 0;
  Status st = ctx_.sites.Send(ids_[id - 1], std::move(body), &bytes);
  *counter += bytes;
  if (!st.ok()) Fail(id, st);
  return st.ok();
}

Verdict SecureRound::OnMessage(const std::string& site, const uint64_t* task,
                                                  wire::Message& m, size_t bytes) {
  auto it = by_site_.find(site);
  if (it == by_site_.end()) return Verdict::Ignore();
  const uint32_t id = it->second;
  // Each stage message counts on the wire, then is dropped unless it is this round's, of the
  // current stage, from a site still expected.
  auto expected = [&](uint32_t r, uint64_t t, Stage s) {
    return task != nullptr && Ours(r, t) && stage_ == s;
  };
  auto outcome = [](Status st) { return st.ok() ? Verdict::Answer() : Verdict::Fail(st); };
  if (auto* k = std::get_if<wire::SecAggKeys>(&m.body)) {
    out_.bytes_secagg += bytes;
    if (!expected(k->round, k->task_id, Stage::kAdvertise)) return Verdict::Ignore();
    Result<secagg::AdvertisedKeys> keys = KeysFromWire(*k, id, task_id_);
    return outcome(keys.ok() ? server_->AddAdvertisedKeys(*keys) : keys.status());
  }
  if (auto* s = std::get_if<wire::SecAggShares>(&m.body)) {
    out_.bytes_secagg += bytes;
    if (!expected(s->round, s->task_id, Stage::kShare)) return Verdict::Ignore();
    std::vector<secagg::EncryptedShares> shares;
    for (const wire::SecAggShare& e : s->shares) shares.push_back(ShareFromWire(e));
    return outcome(server_->AddEncryptedShares(id, shares));
  }
  if (auto* x = std::get_if<wire::SecAggMasked>(&m.body)) {
    out_.bytes_up += bytes;
    if (!expected(x->round, x->task_id, Stage::kMask)) return Verdict::Ignore();
    return OnMasked(site, *x, bytes);
  }
  if (auto* c = std::get_if<wire::SecAggConsistencySignature>(&m.body)) {
    out_.bytes_secagg += bytes;
    if (!expected(c->round, c->task_id, Stage::kConsistency)) return Verdict::Ignore();
    Result<secagg::Signature64> signature = Signature64FromBytes(c->signature);
    return outcome(signature.ok() ? server_->AddConsistencySignature(id, *signature)
                                  : signature.status());
  }
  if (auto* u = std::get_if<wire::SecAggUnmaskResponse>(&m.body)) {
    out_.bytes_secagg += bytes;
    if (!expected(u->round, u->task_id, Stage::kUnmask)) return Verdict::Ignore();
    Result<secagg::UnmaskResponse> r = UnmaskResponseFromWire(*u, id);
    return outcome(r.ok() ? server_->AddUnmaskResponse(*r) : r.status());
  }
  // A batch-norm session's sites send their own validation scores beside the masked moments.
  if (auto* e = std::get_if<wire::EvaluateResult>(&m.body)) {
    if (bn() && e->task_id == task_id_ && on_scores_) on_scores_(site, *e);
    return Verdict::Ignore();
  }
  // Refusals and errors of waited-for sites are the TaskRound's; a site that already answered
  // this stage and then fails is out of the next one.
  if (auto* r = std::get_if<wire::Refusal>(&m.body)) {
    if (r->task_id == task_id_) Fail(id, PermissionDenied(r->reason));
  } else if (auto* e = std::get_if<wire::Error>(&m.body)) {
    Fail(id, Internal(e->message));
  } else if (std::holds_alternative<wire::Update>(m.body)) {
    spdlog::warn("round {}: discarded a plain update from {} in a secure round", round_, site);
  }
  return Verdict::Ignore();
}

Verdict SecureRound::OnMasked(const std::string& site,
                                                 const wire::SecAggMasked& x, size_t bytes) {
  const uint32_t id = by_site_[site];
  Result<std::vector<uint32_t>> words = WordsFromBytes(x.masked, setup_.vector_length);
  Status st = words.ok() ? server_->AddMaskedInput({id, std::move(*words)}) : words.status();
  if (!st.ok()) return Verdict::Fail(st);
  // This site will refuse another secure session of the round (SessionLedger).
  out_.consumed = true;
  // One source of weights: the same capped hello counts as total_weight (never x.num_samples,
  // a second, independent claim).
  if (__builtin_add_overflow(survivor_weight_, weights_[site], &survivor_weight_)) {
    return Verdict::Fail(Internal("secagg: survivor weight overflows"));
  }
  out_.train_s = std::max(out_.train_s, x.metrics.train_seconds);
  if (x.metrics.num_val > 0) {
    val_weighted_ += x.metrics.val_accuracy * static_cast<double>(x.metrics.num_val);
    val_samples_ += static_cast<double>(x.metrics.num_val);
  }
  spdlog::info("round {}: masked {} from {} ({:.2f} MiB)", round_,
               bn() ? "batch-norm statistics" : "update", site, bytes / 1048576.0);
  return Verdict::Answer();
}

Status SecureRound::RunStage(Clock::time_point until, const char* what) {
  TaskRound stage(ctx_.sites, "round " + std::to_string(round_) + " " + what,
                  std::string(what) + " deadline passed");
  for (uint32_t id : waiting_) stage.Expect(ids_[id - 1], task_id_);
  waiting_.clear();
  Status st = stage.Collect(until, stop_,
                            [this](const std::string& site, const uint64_t* task,
                                   wire::Message& m, size_t bytes) {
                              return OnMessage(site, task, m, bytes);
                            });
  for (const SiteFailure& f : stage.failures()) Fail(by_site_[f.site_id], f.reason);
  for (const std::string& site : stage.answered()) answered_.insert(by_site_[site]);
  return st;
}

void SecureRound::NextStage(Stage next) {
  stage_ = next;
  waiting_ = answered_;
  for (uint32_t id : failed_) waiting_.erase(id);
  answered_.clear();
}

Status SecureRound::RelayKeys() {
  for (uint32_t id : std::set<uint32_t>(answered_)) {
    ASSIGN_OR_RETURN(std::vector<secagg::AdvertisedKeys> keys, server_->KeysFor(id));
    wire::SecAggKeysRelay relay{setup_.round, task_id_, {}};
    for (const secagg::AdvertisedKeys& k : keys) relay.keys.push_back(PeerKeysToWire(k));
    Send(id, relay, &out_.bytes_secagg);
  }
  return Status::Ok();
}

Status SecureRound::RelayShares() {
  for (uint32_t id : std::set<uint32_t>(answered_)) {
    ASSIGN_OR_RETURN(std::vector<secagg::EncryptedShares> shares, server_->SharesFor(id));
    wire::SecAggSharesRelay relay{setup_.round, task_id_, {}};
    for (const secagg::EncryptedShares& s : shares) relay.shares.push_back(ShareToWire(s));
    Send(id, relay, &out_.bytes_secagg);
  }
  return Status::Ok();
}


}  // namespace secure_attempt_internal
}  // namespace fedsmear
