// SecAgg+ rounds, the coordinator's side of the maths: the unmasked words back into a RoundSum
// (delta sums and sign-vote sums), and the sites' signing keys. The round itself is
// secure_round_run.cc; both are described in coordinator/secure_round.h.
#include "coordinator/secure_round.h"

#include <string>

#include "common/net/keys.h"
#include "secagg/votes.h"

namespace fedsmear {

namespace {

// Adds the dequantized delta sums of `words` (the values of the non-vote tensors of `base`, in
// model order, quantized in two ranges: trainable and statistics) into `out`.
Status AddDeltaSums(const std::vector<uint32_t>& words, const SecureSumShape& shape,
                    RoundSum* out) {
  const ModelState& base = out->base;
  std::vector<uint32_t> part[2];
  size_t k = 0;
  for (const NamedTensor& t : base.tensors) {
    if (out->spec.IsVote(t)) continue;
    if (k + t.values.size() > words.size()) return Internal("secagg: the sum is too short");
    auto& p = part[t.kind == TensorKind::kStat ? 1 : 0];
    p.insert(p.end(), words.begin() + static_cast<std::ptrdiff_t>(k),
             words.begin() + static_cast<std::ptrdiff_t>(k + t.values.size()));
    k += t.values.size();
  }
  if (k != words.size()) {
    return Internal("secagg: the sum has " + std::to_string(words.size()) +
                    " delta values, the model " + std::to_string(k));
  }
  secagg::QuantizationParams stat = shape.params;
  stat.clip = shape.stat_clip;
  std::vector<float> mean[2];
  ASSIGN_OR_RETURN(mean[0], secagg::DequantizeMean(part[0], shape.params, shape.survivors));
  ASSIGN_OR_RETURN(mean[1], secagg::DequantizeMean(part[1], stat, shape.survivors));
  // Site i sent w_i d_i / W: m times the mean, times W, is sum_S w_i d_i.
  const double factor =
      static_cast<double>(shape.survivors) * static_cast<double>(shape.total_weight);
  size_t next[2] = {0, 0};
  for (size_t i = 0; i < base.tensors.size(); ++i) {
    const NamedTensor& t = base.tensors[i];
    if (out->spec.IsVote(t)) continue;
    const int s = t.kind == TensorKind::kStat ? 1 : 0;
    for (double& v : out->sums[i]) v = static_cast<double>(mean[s][next[s]++]) * factor;
  }
  out->weight = static_cast<double>(shape.survivor_weight);
  return Status::Ok();
}

}  // namespace

Result<RoundSum> SecureRoundSum(const ModelState& base, const std::vector<uint32_t>& sum,
                                const SecureSumShape& shape) {
  if (shape.survivor_weight == 0) return InvalidArgument("secagg: survivors carry no weight");
  RoundSum out = EmptySum(base, SumSpec{shape.vote_bits > 0});
  out.count = static_cast<int>(shape.survivors);
  size_t vote_words = 0;
  if (shape.vote_bits > 0) {
    if (shape.survivor_votes == 0) {
      return InvalidArgument("secagg: survivors carry no vote weight");
    }
    size_t binary = 0;
    for (const NamedTensor& t : base.tensors) {
      if (out.spec.IsVote(t)) binary += t.values.size();
    }
    vote_words = secagg::PackedVoteWords(binary, shape.vote_bits);
    if (sum.size() < vote_words) return Internal("secagg: the sum is shorter than its votes");
    ASSIGN_OR_RETURN(std::vector<uint32_t> plus,
                     secagg::UnpackVoteSums(sum.data(), vote_words, binary, shape.vote_bits));
    const auto w = static_cast<double>(shape.survivor_votes);
    size_t next = 0;
    for (size_t i = 0; i < base.tensors.size(); ++i) {
      if (!out.spec.IsVote(base.tensors[i])) continue;
      for (double& v : out.sums[i]) {
        const uint32_t p = plus[next++];
        if (p > shape.survivor_votes) {
          return Corrupt("secagg: a vote sum exceeds the voters' weight");
        }
        v = 2.0 * p - w;  // the + voters' weight minus the - voters'
      }
    }
    out.vote_weight = w;
  }
  const std::vector<uint32_t> deltas(sum.begin() + static_cast<std::ptrdiff_t>(vote_words),
                                     sum.end());
  RETURN_IF_ERROR(AddDeltaSums(deltas, shape, &out));
  return out;
}

Result<std::map<std::string, std::string>> LoadSigningKeys(const CoordinatorConfig& config) {
  if (config.allowed_sites_file.empty()) {
    return InvalidArgument(
        "secure_aggregation secagg+ (the default) needs allowed_sites_file with each site's "
        "Ed25519 signing key in the third column (or secure_aggregation: off, which lets the "
        "coordinator read every site's update)");
  }
  ASSIGN_OR_RETURN(std::vector<AllowedSite> allowed, LoadAllowedSites(config.allowed_sites_file));
  std::map<std::string, std::string> sign_keys;
  for (const AllowedSite& a : allowed) {
    if (a.sign_public_key.empty()) continue;
    ASSIGN_OR_RETURN(sign_keys[a.site_id], HexDecodeKey(a.sign_public_key, "signing key"));
  }
  return sign_keys;
}

}  // namespace fedsmear
