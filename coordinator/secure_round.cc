// SecAgg+ rounds, the coordinator's maths: the unmasked sum back into a model (plain deltas or
// sign votes), and the sites' signing keys. The round itself is secure_round_run.cc; both are
// described in coordinator/secure_round.h.
#include "coordinator/secure_round.h"

#include <algorithm>

#include "common/net/keys.h"
#include "coordinator/server_impl.h"
#include "coordinator/vote.h"
#include "secagg/site_secagg.h"
#include "secagg/votes.h"

namespace fedsmear {

Result<ModelState> ApplySecureSum(const ModelState& base, const std::vector<uint32_t>& sum,
                                  const secagg::QuantizationParams& params, float stat_clip,
                                  uint32_t survivors, uint64_t total_weight,
                                  uint64_t survivor_weight) {
  if (survivor_weight == 0) return InvalidArgument("secagg: survivors carry no weight");
  if (static_cast<int64_t>(sum.size()) != base.NumValues()) {
    return Internal("secagg: the sum has " + std::to_string(sum.size()) + " values, the model " +
                    std::to_string(base.NumValues()));
  }
  // Split the words into the two quantization ranges (see QuantizeDelta).
  std::vector<uint32_t> part[2];
  size_t k = 0;
  for (const NamedTensor& t : base.tensors) {
    auto& p = part[t.kind == TensorKind::kStat ? 1 : 0];
    p.insert(p.end(), sum.begin() + static_cast<std::ptrdiff_t>(k),
             sum.begin() + static_cast<std::ptrdiff_t>(k + t.values.size()));
    k += t.values.size();
  }
  secagg::QuantizationParams stat = params;
  stat.clip = stat_clip;
  std::vector<float> mean[2];
  ASSIGN_OR_RETURN(mean[0], secagg::DequantizeMean(part[0], params, survivors));
  ASSIGN_OR_RETURN(mean[1], secagg::DequantizeMean(part[1], stat, survivors));
  // mean * m is the sum of the survivors' w_i/W-scaled deltas; W / W_S turns it into their
  // weighted mean.
  const double factor = static_cast<double>(survivors) * static_cast<double>(total_weight) /
                        static_cast<double>(survivor_weight);
  ModelState out = base;
  size_t next[2] = {0, 0};
  for (NamedTensor& t : out.tensors) {
    const int s = t.kind == TensorKind::kStat ? 1 : 0;
    for (float& v : t.values) v = static_cast<float>(v + mean[s][next[s]++] * factor);
  }
  RETURN_IF_ERROR(CheckFinite(out));
  return out;
}

Result<ModelState> ApplySecureVote(const ModelState& base, const std::vector<uint32_t>& sum,
                                   uint32_t vote_bits, uint64_t survivor_votes,
                                   const secagg::QuantizationParams& params, float stat_clip,
                                   uint32_t survivors, uint64_t total_weight,
                                   uint64_t survivor_weight, double momentum) {
  if (survivor_votes == 0) return InvalidArgument("secagg: survivors carry no vote weight");
  size_t binary = 0;
  for (const NamedTensor& t : base.tensors) {
    if (t.kind == TensorKind::kBinary) binary += t.values.size();
  }
  const size_t vote_words = secagg::PackedVoteWords(binary, vote_bits);
  if (sum.size() < vote_words) return Internal("secagg: the sum is shorter than its votes");
  ASSIGN_OR_RETURN(std::vector<uint32_t> plus,
                   secagg::UnpackVoteSums(sum.data(), vote_words, binary, vote_bits));
  const std::vector<uint32_t> float_words(sum.begin() + static_cast<std::ptrdiff_t>(vote_words),
                                          sum.end());
  ASSIGN_OR_RETURN(ModelState floats,
                   ApplySecureSum(WithoutBinaryTensors(base), float_words, params, stat_clip,
                                  survivors, total_weight, survivor_weight));
  ModelState out = base;
  const double w = static_cast<double>(survivor_votes);
  size_t next_vote = 0, next_float = 0;
  for (NamedTensor& t : out.tensors) {
    if (t.kind != TensorKind::kBinary) {
      t.values = floats.tensors[next_float++].values;
      continue;
    }
    for (float& v : t.values) {
      const uint32_t p = plus[next_vote++];
      if (p > survivor_votes) return Internal("secagg: a vote sum exceeds the voters' weight");
      v = NextVoteValue(v, (2.0 * p - w) / w, momentum);
    }
  }
  return out;
}

Status Coordinator::Impl::LoadSigningKeys() {
  if (config.allowed_sites_file.empty()) {
    return InvalidArgument(
        "secure_aggregation secagg+ needs allowed_sites_file with each site's "
        "Ed25519 signing key in the third column");
  }
  ASSIGN_OR_RETURN(std::vector<AllowedSite> allowed, LoadAllowedSites(config.allowed_sites_file));
  for (const AllowedSite& a : allowed) {
    if (a.sign_public_key.empty()) continue;
    ASSIGN_OR_RETURN(sign_keys[a.site_id], HexDecodeKey(a.sign_public_key, "signing key"));
  }
  return Status::Ok();
}

}  // namespace fedsmear
