// The SecAgg+ collector (coordinator/sum_collector.h): each attempt is RunSecureAttempt
// (coordinator/secure_attempt.h); across attempts the collector keeps the signing keys (read
// again before each round), the sites benched for leaving before masking, and the search for a
// site whose input made a sum impossible (coordinator/secagg_search.h).
// Thread-safety: the coordinator's round loop only.
#include <spdlog/spdlog.h>

#include <functional>
#include <optional>
#include <set>

#include "coordinator/secagg_search.h"
#include "coordinator/secure_attempt.h"
#include "coordinator/secure_round.h"
#include "coordinator/sum_collector.h"
#include "secagg/site_policy.h"

namespace fedsmear {
namespace {

class SecAggCollector : public SumCollector {
 public:
  SecAggCollector(SigningKeys sign_keys, std::function<Result<SigningKeys>()> reload)
      : reload_(std::move(reload)) {
    roster_.sign_keys = std::move(sign_keys);
  }
  bool secure() const override { return true; }
  bool Provides(StrategyNeeds needs) const override {
    return needs == StrategyNeeds::kLinearSum;
  }
  int MinSites() const override { return static_cast<int>(kMinSecureSites); }

  std::vector<SiteInfo> Candidates(std::vector<SiteInfo> live) override {
    if (reload_) {
      Result<SigningKeys> keys = reload_();
      if (keys.ok()) {
        if (*keys != roster_.sign_keys) {
          spdlog::info("signing keys reloaded from the allowlist: {} site(s)", keys->size());
        }
        roster_.sign_keys = std::move(*keys);
        reload_error_.clear();
      } else if (keys.status().message() != reload_error_) {
        reload_error_ = keys.status().message();
        spdlog::error("signing keys not reloaded (the previous ones stay): {}", reload_error_);
      }
    }
    std::vector<SiteInfo> out, benched;
    left_out_.clear();
    auto leave_out = [&](const std::string& site, const std::string& why) {
      left_out_ += (left_out_.empty() ? "" : "; ") + site + " " + why;
    };
    for (SiteInfo& s : live) {
      if (!roster_.sign_keys.count(s.site_id)) {
        const char* why = "has no Ed25519 signing key in allowed_sites (add the third column "
                          "from `fedsmear keygen`'s NAME.sign.pub)";
        if (unkeyed_warned_.insert(s.site_id).second) {
          spdlog::warn("site {} {}: it cannot take part in secure rounds", s.site_id, why);
        }
        leave_out(s.site_id, why);
      } else if (search_.excluded().count(s.site_id)) {
        leave_out(s.site_id, "was excluded for spoiling a secure sum");
      } else if (!search_.MayTakePart(s.site_id)) {
        leave_out(s.site_id, "is left out to find who spoiled a secure sum");
      } else if (roster_.benched.count(s.site_id)) {
        benched.push_back(std::move(s));
      } else {
        out.push_back(std::move(s));
      }
    }
    // Sites that left the last attempt before masking sit the next one out, unless a secure
    // round needs them (a consortium of three would otherwise wait for a round that cannot run).
    const bool needed = static_cast<int>(out.size()) < MinSites();
    for (SiteInfo& s : benched) {
      if (needed) {
        spdlog::info("{} left the last attempt before masking but is back, and needed", s.site_id);
        out.push_back(std::move(s));
      } else {
        leave_out(s.site_id, "left the last attempt before masking");
      }
    }
    return out;
  }
  std::string LeftOut() const override { return left_out_; }

  Result<std::optional<RoundSum>> Collect(RoundContext& ctx, int round,
                                          const std::vector<TrainInstruction>& plan,
                                          wire::TrainTask task, const ModelState& received,
                                          RoundOutcome* out,
                                          const std::atomic<bool>& stop) override {
    ASSIGN_OR_RETURN(SecureAttempt attempt,
                     RunSecureAttempt(ctx, roster_, round, plan, std::move(task), received, out,
                                      stop));
    if (attempt.impossible) Impossible(round, out);
    return std::move(attempt.sum);
  }

  Result<std::optional<BnPooled>> CollectBnStatistics(RoundContext& ctx, int round,
                                                      BnRequest request, RoundOutcome* out,
                                                      const std::atomic<bool>& stop) override {
    // One session per round (the sites' ledger refuses a second), so no retry and no search: a
    // round whose statistics cannot be summed keeps the averaged ones of its training sum.
    std::vector<SiteInfo> keyed;
    for (SiteInfo& s : request.sites) {
      if (roster_.sign_keys.count(s.site_id)) keyed.push_back(std::move(s));
    }
    request.sites = std::move(keyed);
    if (static_cast<int>(request.sites.size()) < MinSites()) {
      spdlog::warn("round {}: batch-norm statistics not recalibrated: {} site(s) with training "
                   "images and a signing key, a secure sum needs {}", round,
                   request.sites.size(), MinSites());
      return std::optional<BnPooled>();
    }
    RoundOutcome session;  // the session's own selection, failures and bytes
    Result<SecureAttempt> attempt = RunSecureBnAttempt(ctx, roster_, round, request, &session, stop);
    out->bytes_eval_down += session.bytes_down;
    out->bytes_secagg += session.bytes_secagg;
    if (!attempt.ok()) return attempt.status();
    if (!attempt->moments) {
      spdlog::warn("round {}: batch-norm statistics not recalibrated: {}", round,
                   session.incomplete_reason);
      return std::optional<BnPooled>();
    }
    BnPooled pooled;
    pooled.moments = std::move(*attempt->moments);
    pooled.sites = session.reported.size();
    pooled.images = attempt->survivor_weight;
    pooled.bytes = session.bytes_up;
    return std::optional<BnPooled>(std::move(pooled));
  }

  void Completed(int round, RoundOutcome* out) override {
    roster_.benched.clear();
    if (std::optional<Culprit> c = search_.Succeeded(out->reported); c) {
      spdlog::error("round {}: excluded {} from this run's secure rounds: {}", round, c->site_id,
                    c->evidence);
      out->excluded.emplace_back(c->site_id, c->evidence);
    }
  }

 private:
  void Impossible(int round, RoundOutcome* out) {
    const std::string step = search_.Failed(out->reported, MinSites());
    spdlog::warn("round {}: {}; {}", round, out->incomplete_reason, step);
    out->incomplete_reason += "; " + step;
    out->searching = search_.active();
  }

  SecAggRoster roster_;
  CulpritSearch search_;
  std::function<Result<SigningKeys>()> reload_;
  std::string reload_error_;  // the last failed reload's, logged once
  std::set<std::string> unkeyed_warned_;
  std::string left_out_;  // the last Candidates() call's
};

}  // namespace

std::unique_ptr<SumCollector> MakeSecAggCollector(SigningKeys sign_keys,
                                                  std::function<Result<SigningKeys>()> reload) {
  return std::make_unique<SecAggCollector>(std::move(sign_keys), std::move(reload));
}

Result<std::unique_ptr<SumCollector>> MakeCollector(const CoordinatorConfig& config) {
  if (config.secure_aggregation != SecureAggregation::kSecAggPlus) return MakePlainCollector();
  ASSIGN_OR_RETURN(SigningKeys keys, LoadSigningKeys(config));
  if (keys.size() < kMinSecureSites) {
    spdlog::warn("secure_aggregation secagg+ (the default) needs at least {} sites with an "
                 "Ed25519 signing key in {}, which lists {}: rounds wait until enough are "
                 "admitted. {}", kMinSecureSites, config.allowed_sites_file, keys.size(),
                 kTwoSitesOptOut);
  }
  return MakeSecAggCollector(std::move(keys), [config] { return LoadSigningKeys(config); });
}

}  // namespace fedsmear
