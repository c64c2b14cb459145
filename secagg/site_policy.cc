#include "secagg/site_policy.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <set>
#include <vector>

#include "common/sha256.h"
#include "models/contribution.h"
#include "secagg/votes.h"

namespace fedsmear {

bool IsSecureTask(const wire::TrainTask& task) { return task.secure_aggregation; }

Status CheckSessionModel(const wire::SecAggSetup& setup, std::string_view model_blob) {
  const Digest256 digest = Sha256Of(model_blob);
  if (setup.model_sha256.size() != digest.size() ||
      std::memcmp(setup.model_sha256.data(), digest.data(), digest.size()) != 0) {
    return PermissionDenied("the task's model is not the one its secure aggregation session "
                            "names (model_sha256): refusing an input that peers would not share");
  }
  return Status::Ok();
}

Status CheckVoteWeights(const wire::SecAggSetup& setup) {
  if (setup.vote_bits == 0) return Status::Ok();
  std::vector<uint32_t> weights;
  uint64_t total = 0;
  for (const wire::SecAggSite& s : setup.sites) {
    weights.push_back(s.vote_weight);
    total += s.vote_weight;
  }
  if (!secagg::VoteWeightsRevealOnlyCount(weights)) {
    std::string listed;
    for (const wire::SecAggSite& s : setup.sites) {
      listed += (listed.empty() ? "" : ", ") + s.site_id + " " + std::to_string(s.vote_weight);
    }
    return PermissionDenied("sign-vote weights differ (" + listed +
                            "): their sum would reveal more of this site's votes than a count; "
                            "a secure round needs one weight for every site");
  }
  if (setup.vote_bits > 32 || secagg::VoteFieldBits(total) > setup.vote_bits) {
    return PermissionDenied("vote fields of " + std::to_string(setup.vote_bits) +
                            " bits cannot hold a vote sum of " + std::to_string(total));
  }
  return Status::Ok();
}

Status CheckContributionWeights(const wire::SecAggSetup& setup, const std::string& site_id,
                                uint64_t num_train) {
  uint64_t sum = 0;
  const wire::SecAggSite* me = nullptr;
  for (const wire::SecAggSite& s : setup.sites) {
    if (s.weight < 1 || __builtin_add_overflow(sum, s.weight, &sum)) {
      return PermissionDenied("secure aggregation setup with a weight of 0 or weights that "
                              "overflow");
    }
    if (s.site_id == site_id) me = &s;
  }
  if (sum != setup.total_weight) {
    return PermissionDenied("secure aggregation setup whose total weight " +
                            std::to_string(setup.total_weight) +
                            " is not the sum of its sites' weights " + std::to_string(sum));
  }
  if (me == nullptr) return PermissionDenied("secure aggregation directory does not list this site");
  const int64_t cap = static_cast<int64_t>(std::min<uint64_t>(setup.weight_cap, INT64_MAX));
  const uint64_t expected = ContributionWeight(num_train, cap);
  if (me->weight != expected) {
    return PermissionDenied("secure aggregation setup gives this site weight " +
                            std::to_string(me->weight) + ", its " + std::to_string(num_train) +
                            " training images (capped at " + std::to_string(setup.weight_cap) +
                            ") make " + std::to_string(expected) +
                            "; a weight this site did not earn could single out another site's "
                            "update");
  }
  return Status::Ok();
}

Result<SecAggPolicy> SecAggPolicy::FromConfig(const SitePolicy& p) {
  SecAggPolicy out;
  out.require_secure = p.require_secure_aggregation;
  out.require_roster = p.require_secagg_roster;
  out.min_sites = static_cast<uint32_t>(std::max<int>(kMinSecureSites, p.min_secagg_sites));
  out.min_threshold = static_cast<uint32_t>(std::max(0, p.min_secagg_threshold));
  out.min_neighbours = static_cast<uint32_t>(std::max(0, p.min_secagg_neighbours));
  out.max_sites = static_cast<uint32_t>(std::max(2, p.max_secagg_sites));
  out.max_input_size = static_cast<uint32_t>(std::max(8, p.max_input_size));
  out.max_model_bytes = static_cast<uint64_t>(p.max_model_mb * 1048576.0);
  if (!p.secagg_roster_file.empty()) {
    ASSIGN_OR_RETURN(out.roster, LoadSigningRoster(p.secagg_roster_file));
  } else if (p.require_secure_aggregation) {
    return InvalidArgument(
        "policy.require_secure_aggregation (the default) needs policy.secagg_roster_file, the "
        "consortium roster; a consortium that cannot run secure rounds (e.g. two sites) sets "
        "policy.require_secure_aggregation: false");
  }
  return out;
}

std::string SecAggPolicy::TaskRefusal(const wire::TrainTask& task) const {
  if (require_secure && !IsSecureTask(task)) {
    return "site policy requires secure aggregation; round " + std::to_string(task.round) +
           " is not a SecAgg+ round";
  }
  if (task.input_size > max_input_size) {
    return "task input size " + std::to_string(task.input_size) + " exceeds the site policy's " +
           std::to_string(max_input_size);
  }
  return std::string();
}

Status SecAggPolicy::CheckSetup(const wire::SecAggSetup& setup, const secagg::Config& resolved,
                                const std::string& site_id) const {
  const auto n = static_cast<uint32_t>(setup.sites.size());
  if (n > max_sites) {
    return PermissionDenied("setup lists " + std::to_string(n) +
                            " sites; site policy allows at most " + std::to_string(max_sites));
  }
  const uint32_t fewest = std::max(kMinSecureSites, min_sites);
  if (n < fewest) {
    return PermissionDenied("setup lists " + std::to_string(n) + " sites; site policy "
                            "min_secagg_sites needs at least " + std::to_string(fewest) +
                            " (with fewer, a peer reads this site's update from the sum)");
  }
  if (!roster && require_roster) {
    return PermissionDenied("no consortium roster (policy.secagg_roster_file) and site policy "
                            "require_secagg_roster: the coordinator would choose the peers");
  }
  const uint32_t safe = secagg::RecommendedThreshold(resolved.neighbours);
  const uint32_t min_t = std::max(safe, min_threshold);
  if (resolved.threshold < min_t) {
    return PermissionDenied("secure aggregation threshold " + std::to_string(resolved.threshold) +
                            " is below the safe minimum " + std::to_string(min_t) + " for " +
                            std::to_string(resolved.neighbours) +
                            " neighbours (site policy min_secagg_threshold " +
                            std::to_string(min_threshold) + ")");
  }
  if (setup.vector_length > max_model_bytes / 4) {
    return PermissionDenied("setup announces " + std::to_string(setup.vector_length) +
                            " words, more than the site policy's max_model_mb");
  }
  // min_secagg_neighbours is capped at n - 1 (the complete graph) for small rounds, but never
  // below two neighbours: with one, the pair's masks cancel in a sum of two.
  const uint32_t min_k = std::max(2u, std::min(min_neighbours, n - 1));
  if (resolved.neighbours < min_k) {
    return PermissionDenied("secure aggregation with " + std::to_string(resolved.neighbours) +
                            " neighbours is below the site policy's minimum " +
                            std::to_string(min_k) + " (min_secagg_neighbours " +
                            std::to_string(min_neighbours) + ", at least 2)");
  }
  RETURN_IF_ERROR(CheckVoteWeights(setup));
  std::set<std::string> names;
  std::set<uint32_t> ids;
  for (const wire::SecAggSite& s : setup.sites) {
    if (!names.insert(s.site_id).second) {
      return PermissionDenied("setup lists site " + s.site_id + " twice");
    }
    if (s.secagg_id < 1 || s.secagg_id > n || !ids.insert(s.secagg_id).second) {
      return PermissionDenied("setup gives site " + s.site_id + " an invalid or repeated id " +
                              std::to_string(s.secagg_id));
    }
    if (!roster) continue;
    auto it = roster->find(s.site_id);
    if (it == roster->end()) {
      return PermissionDenied("peer " + s.site_id + " is not on the consortium roster");
    }
    if (it->second != s.sign_public_key) {
      return PermissionDenied("peer " + s.site_id +
                              " is listed with another signing key than the consortium roster's");
    }
  }
  if (!names.count(site_id)) return PermissionDenied("setup does not list this site");
  return Status::Ok();
}

}  // namespace fedsmear
