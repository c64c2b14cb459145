// SecAgg+ training rounds; the protocol and the maths are described in coordinator/secure_round.h.
#include "coordinator/secure_round.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "client/site_secagg.h"
#include "client/site_secagg_wire.h"
#include "common/net/keys.h"
#include "common/secagg/config.h"
#include "common/secagg/server.h"
#include "common/secagg/votes.h"
#include "coordinator/server_impl.h"
#include "coordinator/vote.h"

namespace fedsmear {
namespace {

using std::chrono::milliseconds;

Clock::time_point In(double seconds) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

enum class Stage { kAdvertise, kShare, kMask, kUnmask };

}  // namespace

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
                                   uint64_t survivor_weight) {
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
      const double share = (2.0 * p - w) / w;
      v = share == 0 ? (v >= 0.f ? kVoteTieMagnitude : -kVoteTieMagnitude)
                     : static_cast<float>(share);
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

Result<RoundOutcome> Coordinator::Impl::SecureTrainRound(int round, const std::atomic<bool>& stop) {
  RoundOutcome out;
  out.secure = true;
  RETURN_IF_ERROR(DrainQueued());
  const auto started = Clock::now();
  const double lr = schedule.RateFor(round);
  std::vector<TrainInstruction> plan =
      strategy->ConfigureTrain(round, LiveSites(), config.train, lr, rng);
  auto incomplete = [&](const std::string& why) {
    spdlog::warn("round {}: secure aggregation round incomplete: {}", round, why);
    out.incomplete_reason = why;
    out.round_s = std::chrono::duration<double>(Clock::now() - started).count();
    return out;
  };
  const auto n = static_cast<uint32_t>(plan.size());
  if (static_cast<int>(n) < config.min_sites || n < 2) {
    return incomplete(std::to_string(n) + " site(s) available; secure aggregation needs " +
                      std::to_string(std::max(2, config.min_sites)));
  }
  for (const TrainInstruction& ins : plan) {
    if (!sign_keys.count(ins.site_id)) {
      return FailedPrecondition("secure_aggregation secagg+: site " + ins.site_id +
                                " has no Ed25519 signing key in allowed_sites (add the third "
                                "column from `fedsmear keygen`'s NAME.sign.pub)");
    }
  }
  ModelState received;
  ASSIGN_OR_RETURN(wire::TrainTask task, MakeTrainTask(round, lr, &received));
  const uint64_t task_id = next_task_id++;

  // Parameters: complete graph for small federations, t > (k+1)/2 unless configured.
  secagg::Config sc;
  sc.num_sites = n;
  const auto cfg_t = static_cast<uint32_t>(config.secagg_threshold);
  sc.neighbours = config.secagg_neighbours > 0
                      ? std::min<uint32_t>(static_cast<uint32_t>(config.secagg_neighbours), n - 1)
                      : secagg::DefaultNeighbourCount(n, std::max<uint32_t>(cfg_t, 1));
  sc.threshold = cfg_t > 0 ? cfg_t : secagg::RecommendedThreshold(sc.neighbours);
  sc.mask_bits = 32;
  sc.round = task_id;
  // Sign votes: integer vote weights by training-set size; fields wide enough for their sum.
  std::vector<uint32_t> vote_weights;
  uint32_t vote_bits = 0;
  if (strategy->SignVotes()) {
    std::vector<uint64_t> sizes;
    for (const TrainInstruction& ins : plan) sizes.push_back(sites[ins.site_id].info.num_train);
    vote_weights = secagg::VoteWeights(sizes);
    uint64_t total_votes = 0;
    for (uint32_t v : vote_weights) total_votes += v;
    vote_bits = secagg::VoteFieldBits(total_votes);
  }
  sc.vector_length = SecureVectorLength(received, vote_bits);
  RETURN_IF_ERROR(secagg::RandomBytes(sc.graph_seed.data(), sc.graph_seed.size()));
  Result<secagg::Config> resolved = secagg::ResolveConfig(sc);
  if (!resolved.ok()) return incomplete(resolved.status().message());
  sc = *resolved;
  if (sc.threshold < secagg::RecommendedThreshold(sc.neighbours)) {
    spdlog::warn("secagg_threshold {} is below the safe {}: sites will refuse", sc.threshold,
                 secagg::RecommendedThreshold(sc.neighbours));
  }
  secagg::IdentityDirectory directory;
  wire::SecAggSetup setup;
  setup.round = static_cast<uint32_t>(round);
  setup.task_id = task_id;
  std::vector<std::string> ids;  // secagg id - 1 -> site id
  std::map<std::string, uint32_t> by_site;
  for (const TrainInstruction& ins : plan) {
    const auto id = static_cast<uint32_t>(ids.size() + 1);
    ids.push_back(ins.site_id);
    by_site[ins.site_id] = id;
    const std::string& key = sign_keys[ins.site_id];
    setup.sites.push_back({ins.site_id, id, key, vote_bits ? vote_weights[id - 1] : 0});
    ASSIGN_OR_RETURN(directory[id], Key32FromBytes(key, "signing key"));
    setup.total_weight += std::max<uint64_t>(1, sites[ins.site_id].info.num_train);
  }
  setup.threshold = sc.threshold;
  setup.neighbours = sc.neighbours;
  setup.mask_bits = sc.mask_bits;
  setup.graph_seed = BytesOf(sc.graph_seed.data(), sc.graph_seed.size());
  setup.clip = config.secagg_clip;
  setup.stat_clip = config.secagg_stat_clip;
  setup.vector_length = sc.vector_length;
  setup.vote_bits = vote_bits;
  out.secagg_threshold = sc.threshold;
  out.secagg_neighbours = sc.neighbours;
  out.secagg_vote_bits = vote_bits;
  ASSIGN_OR_RETURN(secagg::Server server, secagg::Server::Create(sc, directory));

  std::set<uint32_t> waiting, failed, answered;
  auto fail = [&](uint32_t id, Status why) {
    if (!failed.insert(id).second) return;
    waiting.erase(id);
    spdlog::warn("round {}: site {} left the secure aggregation: {}", round, ids[id - 1],
                 why.message());
    out.failures.push_back({ids[id - 1], std::move(why)});
  };
  auto send = [&](uint32_t id, wire::Body body, uint64_t* counter) {
    uint64_t bytes = 0;
    Status st = Send(ids[id - 1], std::move(body), &bytes);
    *counter += bytes;
    if (!st.ok()) fail(id, st);
    return st.ok();
  };
  task.task_id = task_id;
  task.extra.push_back({"secure_aggregation", "secagg+"});
  for (const TrainInstruction& ins : plan) {
    const uint32_t id = by_site[ins.site_id];
    out.selected.push_back(ins.site_id);
    task.train = ins.config;
    if (send(id, setup, &out.bytes_secagg) && send(id, task, &out.bytes_down)) waiting.insert(id);
  }
  spdlog::info(
      "round {}: {} site(s) selected for secure aggregation (threshold {}, {} neighbours, "
      "clip {}{}), lr {:.2e}",
      round, n, sc.threshold, sc.neighbours, config.secagg_clip,
      vote_bits ? ", sign votes " + std::to_string(vote_bits) + " bits wide" : std::string(), lr);

  Stage stage = Stage::kAdvertise;
  uint64_t survivor_weight = 0;
  double val_weighted = 0, val_samples = 0;
  // Validates one stage message, feeds it to the server, and moves its sender on.
  auto accept = [&](uint32_t id, Stage expected, Status st) {
    if (stage != expected || !waiting.count(id)) return;  // late or unexpected: ignored
    if (!st.ok()) return fail(id, st);
    waiting.erase(id);
    answered.insert(id);
  };
  auto on_round = [&](const std::string& site, wire::Message& m, size_t bytes) {
    auto it = by_site.find(site);
    if (it == by_site.end()) return;
    const uint32_t id = it->second;
    auto ours = [&](uint32_t r, uint64_t t) { return r == setup.round && t == task_id; };
    if (auto* k = std::get_if<wire::SecAggKeys>(&m.body)) {
      out.bytes_secagg += bytes;
      if (!ours(k->round, k->task_id) || stage != Stage::kAdvertise || !waiting.count(id)) return;
      Result<secagg::AdvertisedKeys> keys = KeysFromWire(*k, id, task_id);
      accept(id, Stage::kAdvertise, keys.ok() ? server.AddAdvertisedKeys(*keys) : keys.status());
    } else if (auto* s = std::get_if<wire::SecAggShares>(&m.body)) {
      out.bytes_secagg += bytes;
      if (!ours(s->round, s->task_id) || stage != Stage::kShare || !waiting.count(id)) return;
      std::vector<secagg::EncryptedShares> shares;
      for (const wire::SecAggShare& e : s->shares) shares.push_back(ShareFromWire(e));
      accept(id, Stage::kShare, server.AddEncryptedShares(id, shares));
    } else if (auto* x = std::get_if<wire::SecAggMasked>(&m.body)) {
      out.bytes_up += bytes;
      if (!ours(x->round, x->task_id) || stage != Stage::kMask || !waiting.count(id)) return;
      Result<std::vector<uint32_t>> words = WordsFromBytes(x->masked, setup.vector_length);
      Status st = words.ok() ? server.AddMaskedInput({id, std::move(*words)}) : words.status();
      accept(id, Stage::kMask, st);
      if (!st.ok()) return;
      survivor_weight += x->num_samples;
      out.train_s = std::max(out.train_s, x->metrics.train_seconds);
      if (x->metrics.num_val > 0) {
        val_weighted += x->metrics.val_accuracy * static_cast<double>(x->metrics.num_val);
        val_samples += static_cast<double>(x->metrics.num_val);
      }
      spdlog::info("round {}: masked update from {} ({:.2f} MiB)", round, site, bytes / 1048576.0);
    } else if (auto* u = std::get_if<wire::SecAggUnmaskResponse>(&m.body)) {
      out.bytes_secagg += bytes;
      if (!ours(u->round, u->task_id) || stage != Stage::kUnmask || !waiting.count(id)) return;
      Result<secagg::UnmaskResponse> r = UnmaskResponseFromWire(*u, id);
      accept(id, Stage::kUnmask, r.ok() ? server.AddUnmaskResponse(*r) : r.status());
    } else if (auto* r = std::get_if<wire::Refusal>(&m.body)) {
      if (r->task_id == task_id) fail(id, PermissionDenied(r->reason));
    } else if (auto* e = std::get_if<wire::Error>(&m.body)) {
      fail(id, Internal(e->message));
    } else if (std::holds_alternative<wire::Update>(m.body)) {
      spdlog::warn("round {}: discarded a plain update from {} in a secure round", round, site);
    }
  };
  auto run_stage = [&](Clock::time_point until, const char* what) -> Status {
    while (!waiting.empty()) {
      if (stop.load()) return Aborted("stopped during round " + std::to_string(round));
      const auto now = Clock::now();
      if (now >= until) {
        for (uint32_t id : std::set<uint32_t>(waiting))
          fail(id, Timeout(std::string(what) + " deadline passed"));
        break;
      }
      auto slice = std::min<Clock::duration>(until - now, milliseconds(200));
      RETURN_IF_ERROR(Pump(std::chrono::duration_cast<milliseconds>(slice), on_round).status());
      for (uint32_t id : std::set<uint32_t>(waiting)) {
        if (IsSilent(ids[id - 1])) fail(id, Unavailable("site went silent"));
      }
    }
    return Status::Ok();
  };
  // Moves to `next` expecting answers from those who answered the last stage.
  auto next_stage = [&](Stage next) {
    stage = next;
    waiting = answered;
    for (uint32_t id : failed) waiting.erase(id);
    answered.clear();
  };

  RETURN_IF_ERROR(run_stage(In(config.secagg_stage_deadline_s), "key advertisement"));
  if (Status st = server.CloseAdvertiseStage(); !st.ok()) return incomplete(st.message());
  for (uint32_t id : std::set<uint32_t>(answered)) {
    ASSIGN_OR_RETURN(std::vector<secagg::AdvertisedKeys> keys, server.KeysFor(id));
    wire::SecAggKeysRelay relay{setup.round, task_id, {}};
    for (const secagg::AdvertisedKeys& k : keys) relay.keys.push_back(PeerKeysToWire(k));
    send(id, relay, &out.bytes_secagg);
  }
  next_stage(Stage::kShare);
  RETURN_IF_ERROR(run_stage(In(config.secagg_stage_deadline_s), "key sharing"));
  if (Status st = server.CloseShareStage(); !st.ok()) return incomplete(st.message());
  for (uint32_t id : std::set<uint32_t>(answered)) {
    ASSIGN_OR_RETURN(std::vector<secagg::EncryptedShares> shares, server.SharesFor(id));
    wire::SecAggSharesRelay relay{setup.round, task_id, {}};
    for (const secagg::EncryptedShares& s : shares) relay.shares.push_back(ShareToWire(s));
    send(id, relay, &out.bytes_secagg);
  }
  next_stage(Stage::kMask);
  RETURN_IF_ERROR(run_stage(started + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(config.round_deadline_s)),
                            "round"));
  Result<secagg::UnmaskRequest> request = server.CloseMaskStage();
  if (!request.ok()) return incomplete(request.status().message());
  for (uint32_t id : request->survivors) out.reported.push_back(ids[id - 1]);
  for (uint32_t id : request->dropped) out.dropped.push_back(ids[id - 1]);
  out.updates = static_cast<int>(request->survivors.size());
  out.mean_site_val_accuracy = val_samples > 0 ? val_weighted / val_samples : 0;
  next_stage(Stage::kUnmask);
  wire::SecAggUnmaskRequest unmask{setup.round, task_id, request->survivors, request->dropped};
  for (uint32_t id : std::set<uint32_t>(waiting)) send(id, unmask, &out.bytes_secagg);
  RETURN_IF_ERROR(run_stage(In(config.secagg_stage_deadline_s), "unmasking"));
  Result<std::vector<uint32_t>> sum = server.Finish();
  if (!sum.ok()) return incomplete(sum.status().message());
  if (out.updates < config.min_sites) {
    return incomplete(std::to_string(out.updates) + " masked updates < min_sites " +
                      std::to_string(config.min_sites));
  }
  secagg::QuantizationParams qp{static_cast<float>(config.secagg_clip), sc.mask_bits, n};
  ModelState next;
  if (vote_bits > 0) {
    uint64_t survivor_votes = 0;
    for (uint32_t id : request->survivors) survivor_votes += vote_weights[id - 1];
    ASSIGN_OR_RETURN(next, ApplySecureVote(received, *sum, vote_bits, survivor_votes, qp,
                                           static_cast<float>(setup.stat_clip),
                                           static_cast<uint32_t>(out.updates),
                                           setup.total_weight, survivor_weight));
  } else {
    ASSIGN_OR_RETURN(next, ApplySecureSum(received, *sum, qp, static_cast<float>(setup.stat_clip),
                                          static_cast<uint32_t>(out.updates), setup.total_weight,
                                          survivor_weight));
  }
  next.meta = global.meta;
  global = std::move(next);
  out.completed = true;
  out.round_s = std::chrono::duration<double>(Clock::now() - started).count();
  spdlog::info(
      "round {}: secure sum of {} site(s) ({} dropped and recovered), {:.2f} MiB of "
      "secagg traffic",
      round, out.updates, out.dropped.size(), out.bytes_secagg / 1048576.0);
  return out;
}

}  // namespace fedsmear
