#include "secagg/site_secagg.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "models/bn_statistics.h"
#include "secagg/site_secagg_wire.h"
#include "secagg/votes.h"

namespace fedsmear {

secagg::QuantizationParams QuantizationFor(const wire::SecAggSetup& setup) {
  secagg::QuantizationParams p;
  p.clip = static_cast<float>(setup.clip);
  p.mask_bits = setup.mask_bits;
  p.max_sites = static_cast<uint32_t>(setup.sites.size());
  return p;
}

Result<std::vector<uint32_t>> QuantizeDelta(const ModelState& trained, const ModelState& global,
                                            uint64_t weight, uint64_t total_weight,
                                            const secagg::QuantizationParams& params,
                                            float stat_clip, uint64_t seed) {
  RETURN_IF_ERROR(CheckSameLayout(global, trained));
  if (weight == 0 || total_weight == 0) return InvalidArgument("secagg: weights must be >= 1");
  const double scale = static_cast<double>(weight) / static_cast<double>(total_weight);
  // Two ranges: trainable values and BN running statistics (kStat), each quantized in one call
  // and scattered back into model order.
  std::vector<float> delta[2];
  for (size_t t = 0; t < global.tensors.size(); ++t) {
    const auto& g = global.tensors[t].values;
    const auto& x = trained.tensors[t].values;
    std::vector<float>& out = delta[global.tensors[t].kind == TensorKind::kStat ? 1 : 0];
    for (size_t i = 0; i < g.size(); ++i) {
      out.push_back(static_cast<float>((static_cast<double>(x[i]) - g[i]) * scale));
    }
  }
  secagg::QuantizationParams stat = params;
  stat.clip = stat_clip;
  std::vector<uint32_t> q[2];
  ASSIGN_OR_RETURN(q[0], secagg::Quantize(delta[0].data(), delta[0].size(), params, seed));
  ASSIGN_OR_RETURN(q[1], secagg::Quantize(delta[1].data(), delta[1].size(), stat, seed + 1));
  std::vector<uint32_t> words;
  words.reserve(q[0].size() + q[1].size());
  size_t next[2] = {0, 0};
  for (const NamedTensor& t : global.tensors) {
    const int k = t.kind == TensorKind::kStat ? 1 : 0;
    words.insert(words.end(), q[k].begin() + static_cast<std::ptrdiff_t>(next[k]),
                 q[k].begin() + static_cast<std::ptrdiff_t>(next[k] + t.values.size()));
    next[k] += t.values.size();
  }
  return words;
}

size_t SecureVectorLength(const ModelState& model, uint32_t vote_bits) {
  if (vote_bits == 0) return static_cast<size_t>(model.NumValues());
  size_t binary = 0, other = 0;
  for (const NamedTensor& t : model.tensors) {
    (t.kind == TensorKind::kBinary ? binary : other) += t.values.size();
  }
  return secagg::PackedVoteWords(binary, vote_bits) + other;
}

ModelState WithoutBinaryTensors(const ModelState& model) {
  ModelState out;
  out.meta = model.meta;
  for (const NamedTensor& t : model.tensors) {
    if (t.kind != TensorKind::kBinary) out.tensors.push_back(t);
  }
  return out;
}

Result<std::vector<uint32_t>> QuantizeForSetup(const ModelState& trained, const ModelState& global,
                                               uint64_t weight, const wire::SecAggSetup& setup,
                                               const std::string& site_id, uint64_t seed) {
  const secagg::QuantizationParams params = QuantizationFor(setup);
  const auto stat_clip = static_cast<float>(setup.stat_clip);
  if (setup.vote_bits == 0) {
    return QuantizeDelta(trained, global, weight, setup.total_weight, params, stat_clip, seed);
  }
  RETURN_IF_ERROR(CheckSameLayout(global, trained));
  uint32_t vote_weight = 0;
  for (const wire::SecAggSite& s : setup.sites) {
    if (s.site_id == site_id) vote_weight = s.vote_weight;
  }
  std::vector<float> latent;
  for (const NamedTensor& t : trained.tensors) {
    if (t.kind == TensorKind::kBinary) latent.insert(latent.end(), t.values.begin(), t.values.end());
  }
  ASSIGN_OR_RETURN(std::vector<uint32_t> words,
                   secagg::PackVotes(latent.data(), latent.size(), vote_weight, setup.vote_bits));
  ASSIGN_OR_RETURN(std::vector<uint32_t> floats,
                   QuantizeDelta(WithoutBinaryTensors(trained), WithoutBinaryTensors(global), weight,
                                 setup.total_weight, params, stat_clip, seed));
  words.insert(words.end(), floats.begin(), floats.end());
  return words;
}

Result<std::vector<uint32_t>> QuantizeBnMoments(const ModelState& stats,
                                                const ModelState& reference, uint64_t weight,
                                                const wire::SecAggSetup& setup, uint64_t seed,
                                                size_t* clipped) {
  if (setup.purpose != wire::SecAggPurpose::kBnStatistics || setup.vote_bits != 0) {
    return InvalidArgument("secagg: not a batch-norm statistics session");
  }
  if (weight == 0 || setup.total_weight == 0) return InvalidArgument("secagg: weights must be >= 1");
  ASSIGN_OR_RETURN(std::vector<double> moments, BnMomentsOf(stats, reference));
  if (moments.size() != setup.vector_length) {
    return InvalidArgument("secagg: the model's batch-norm moments (" +
                           std::to_string(moments.size()) + ") do not match the announced vector "
                           "length " + std::to_string(setup.vector_length));
  }
  const double scale = static_cast<double>(weight) / static_cast<double>(setup.total_weight);
  std::vector<float> scaled(moments.size());
  for (size_t k = 0; k < moments.size(); ++k) scaled[k] = static_cast<float>(moments[k] * scale);
  if (clipped) {
    *clipped = static_cast<size_t>(std::count_if(scaled.begin(), scaled.end(), [&](float x) {
      return std::fabs(x) > static_cast<float>(setup.clip);
    }));
  }
  return secagg::Quantize(scaled.data(), scaled.size(), QuantizationFor(setup), seed);
}

uint64_t SetupWeightOf(const wire::SecAggSetup& setup, const std::string& site_id) {
  for (const wire::SecAggSite& s : setup.sites) {
    if (s.site_id == site_id) return s.weight;
  }
  return 0;
}

Result<std::unique_ptr<SecAggSession>> SecAggSession::Start(
    const wire::SecAggSetup& setup, const SessionContext& context,
    const secagg::Secret32& identity_seed, const SecAggPolicy& policy, SessionLedger& ledger,
    wire::SecAggKeys* advertise, std::shared_ptr<secagg::VerifyMemo> memo) {
  const std::string& site_id = context.site_id;
  if (setup.sites.size() > policy.max_sites) {  // before anything is sized by n
    return PermissionDenied("setup lists " + std::to_string(setup.sites.size()) +
                            " sites; site policy allows at most " +
                            std::to_string(policy.max_sites));
  }
  ASSIGN_OR_RETURN(secagg::Config config, SecAggConfigFromSetup(setup, context.run_id));
  RETURN_IF_ERROR(policy.CheckSetup(setup, config, site_id));
  RETURN_IF_ERROR(CheckContributionWeights(setup, site_id, context.num_train));
  ASSIGN_OR_RETURN(secagg::IdentityDirectory directory, DirectoryFromSetup(setup));
  ASSIGN_OR_RETURN(secagg::Ed25519KeyPair identity,
                   secagg::Ed25519KeyPair::FromPrivate(identity_seed));
  uint32_t me = 0;
  for (const wire::SecAggSite& s : setup.sites) {
    if (s.site_id == site_id) me = s.secagg_id;
  }
  if (me == 0) return PermissionDenied("secure aggregation directory does not list this site");
  for (uint32_t id = 1; id <= config.num_sites; ++id) {
    if (!directory.count(id)) {
      return PermissionDenied("secure aggregation directory lacks the key of peer " +
                              std::to_string(id));
    }
  }
  if (directory[me] != identity.public_key()) {
    return PermissionDenied(
        "secure aggregation directory holds another signing key for this "
        "site (check the coordinator's allowed_sites)");
  }
  if (setup.vector_length == 0 || setup.total_weight == 0) {
    return PermissionDenied("secure aggregation setup without a vector length or total weight");
  }
  RETURN_IF_ERROR(secagg::QuantizationLevels(QuantizationFor(setup)).status());
  ASSIGN_OR_RETURN(secagg::Site site,
                   secagg::Site::Create(config, me, std::move(identity), std::move(directory)));
  site.set_verify_memo(std::move(memo));
  // Last: a setup refused above does not use up its task id.
  RETURN_IF_ERROR(ledger.Admit(context.run_id, setup.round, setup.purpose, setup.task_id));
  std::unique_ptr<SecAggSession> session(
      new SecAggSession(setup, context.run_id, std::move(site), ledger));
  ASSIGN_OR_RETURN(secagg::AdvertisedKeys keys, session->site_.AdvertiseKeys());
  wire::SecAggPeerKeys w = PeerKeysToWire(keys);
  *advertise = {setup.round, setup.task_id, w.c_pk, w.s_pk, w.signature};
  return session;
}

Result<wire::SecAggShares> SecAggSession::OnKeysRelay(const wire::SecAggKeysRelay& relay) {
  std::vector<secagg::AdvertisedKeys> keys;
  for (const wire::SecAggPeerKeys& k : relay.keys) {
    ASSIGN_OR_RETURN(secagg::AdvertisedKeys a, PeerKeysFromWire(k, setup_.task_id));
    keys.push_back(a);
  }
  ASSIGN_OR_RETURN(std::vector<secagg::EncryptedShares> shares, site_.ShareKeys(keys));
  wire::SecAggShares out;
  out.round = setup_.round;
  out.task_id = setup_.task_id;
  for (const secagg::EncryptedShares& s : shares) out.shares.push_back(ShareToWire(s));
  return out;
}

Status SecAggSession::OnSharesRelay(const wire::SecAggSharesRelay& relay) {
  if (received_) return FailedPrecondition("secagg: shares already relayed");
  std::vector<secagg::EncryptedShares> shares;
  for (const wire::SecAggShare& s : relay.shares) {
    if (s.to != site_.id()) return InvalidArgument("secagg: relayed a share for another site");
    shares.push_back(ShareFromWire(s));
  }
  received_ = std::move(shares);
  return Status::Ok();
}

Status SecAggSession::SetInput(SecAggInput input) {
  if (input.task_id != setup_.task_id) return InvalidArgument("secagg: input of another task");
  if (input.quantized.size() != setup_.vector_length) {
    return InvalidArgument("secagg: the trained model does not match the announced vector length");
  }
  input_ = std::move(input);
  return Status::Ok();
}

Result<std::optional<wire::SecAggMasked>> SecAggSession::TakeMasked() {
  if (masked_sent_ || !received_ || !input_) return std::optional<wire::SecAggMasked>();
  ASSIGN_OR_RETURN(secagg::MaskedInput masked, site_.MaskInput(*received_, input_->quantized));
  masked_sent_ = true;
  ledger_->Masked(run_id_, setup_.round, setup_.purpose);
  wire::SecAggMasked out;
  out.round = setup_.round;
  out.task_id = setup_.task_id;
  out.num_samples = input_->num_samples;
  out.metrics = input_->metrics;
  out.masked = WordsToBytes(masked.masked);
  std::fill(input_->quantized.begin(), input_->quantized.end(), 0u);
  input_.reset();
  return std::optional<wire::SecAggMasked>(std::move(out));
}

Result<wire::SecAggConsistencySignature> SecAggSession::OnConsistencyCheck(
    const wire::SecAggConsistencyCheck& check) {
  ASSIGN_OR_RETURN(secagg::Signature64 signature, site_.SignSurvivors(check.survivors));
  return wire::SecAggConsistencySignature{setup_.round, setup_.task_id,
                                          BytesOf(signature.data(), signature.size())};
}

Result<wire::SecAggUnmaskResponse> SecAggSession::OnUnmaskRequest(
    const wire::SecAggUnmaskRequest& request) {
  ASSIGN_OR_RETURN(secagg::UnmaskRequest parsed, UnmaskRequestFromWire(request));
  ASSIGN_OR_RETURN(secagg::UnmaskResponse response, site_.Unmask(parsed));
  wire::SecAggUnmaskResponse out = UnmaskResponseToWire(response);
  out.round = setup_.round;
  out.task_id = setup_.task_id;
  return out;
}

}  // namespace fedsmear
