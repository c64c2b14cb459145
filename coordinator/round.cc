// A plain training round, federated evaluation and the round's record (coordinator/round.h).
#include "coordinator/round.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <set>

#include "coordinator/class_prior.h"
#include "coordinator/sum_collector.h"
#include "coordinator/task_round.h"
#include "models/codec.h"
#include "models/packed_model.h"
#include "models/bn_statistics.h"

namespace fedsmear {
namespace {

using std::chrono::milliseconds;

int64_t UnixMsIn(double seconds) {
  auto t = std::chrono::system_clock::now() +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(
               std::chrono::duration<double>(seconds));
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

// codec_down (checked against the registry by Coordinator::Create): see ParseDownlinkCodec.
wire::ModelBlob DownlinkBlob(const ModelState& global, const std::string& codec) {
  const Result<PackOptions> options = ParseDownlinkCodec(codec);
  wire::ModelBlob blob;
  blob.codec = options.ok() ? codec : "f32";
  blob.data = PackModel(global, options.value_or(LosslessPackOptions()));
  return blob;
}

// The fields TrainTask and EvaluateTask share: the model and what it is.
template <typename Task>
void DescribeModel(const ModelState& global, const std::string& codec_down, int round,
                   double deadline_s, Task* task) {
  task->round = static_cast<uint32_t>(round);
  task->model = DownlinkBlob(global, codec_down);
  task->arch = global.meta.arch;
  task->num_classes = static_cast<uint32_t>(global.meta.classes);
  task->input_size = static_cast<uint32_t>(global.meta.input_size);
  task->class_names = global.meta.class_names;
  task->deadline_unix_ms = UnixMsIn(deadline_s);
}

}  // namespace

Result<wire::TrainTask> MakeTrainTask(const RoundContext& ctx, int round, ModelState* received) {
  const CoordinatorConfig& config = ctx.config;
  wire::TrainTask task;
  DescribeModel(ctx.global, config.codec_down, round, config.round_deadline_s, &task);
  task.codec_up = config.codec_up;
  task.latent_start = config.latent_start;
  task.latent_epsilon = config.latent_epsilon;
  task.latent_flip = config.latent_flip;
  task.train = config.train;
  task.train.learning_rate = ctx.lr;
  if (config.train.logit_adjustment > 0 && config.train.logit_adjustment_prior == LogitPrior::kPooled) {
    task.class_prior = PooledClassPrior(ctx.sites.Live(), ctx.global.meta.class_names);
  }
  // Updates are decoded against what the sites received (q8_delta encodes differences to it).
  ASSIGN_OR_RETURN(*received, UnpackModel(task.model.data));
  return task;
}

Result<RoundOutcome> TrainRound(RoundContext& ctx, SumCollector& collector, int round,
                                const std::atomic<bool>& stop) {
  const CoordinatorConfig& config = ctx.config;
  RoundOutcome out;
  out.secure = collector.secure();
  RETURN_IF_ERROR(ctx.sites.DrainQueued());
  const auto started = Clock::now();
  auto incomplete = [&](std::string why) {
    spdlog::warn("round {}: {}", round, why);
    out.incomplete_reason = std::move(why);
    out.round_s = std::chrono::duration<double>(Clock::now() - started).count();
    return out;
  };
  const std::vector<SiteInfo> candidates = collector.Candidates(ctx.sites.Live());
  for (const SiteInfo& s : candidates) out.candidates.push_back(s.site_id);
  const std::vector<TrainInstruction> plan =
      ctx.strategy.ConfigureTrain(round, candidates, config.train, ctx.lr, ctx.rng);
  const int fewest = std::max(config.min_sites, collector.MinSites());
  if (static_cast<int>(plan.size()) < fewest) {
    const std::string left_out = collector.LeftOut();
    const std::map<std::string, std::string> pending = ctx.sites.PendingApproval();
    if (!pending.empty() && static_cast<int>(plan.size() + pending.size()) >= fewest) {
      // The approvals alone would make the round possible: wait for them.
      out.awaiting_approval = pending;
      std::string who;
      for (const auto& [site, hash] : out.awaiting_approval) {
        who += (who.empty() ? "" : ", ") + site;
      }
      return incomplete(std::to_string(plan.size()) + " site(s) ready, " +
                        std::to_string(fewest) + " required; waiting for " + who +
                        " to approve training plan " + out.awaiting_approval.begin()->second);
    }
    return incomplete(std::to_string(plan.size()) + " site(s) available, " +
                      std::to_string(fewest) + " required" +
                      (collector.secure() && collector.MinSites() > config.min_sites
                           ? " by secure aggregation"
                           : "") +
                      (left_out.empty() ? "" : " (" + left_out + ")") +
                      (collector.secure() && static_cast<int>(plan.size()) < collector.MinSites()
                           ? ". " + std::string(kTwoSitesOptOut)
                           : ""));
  }
  ModelState received;
  ASSIGN_OR_RETURN(wire::TrainTask task, MakeTrainTask(ctx, round, &received));
  ASSIGN_OR_RETURN(std::optional<RoundSum> sum,
                   collector.Collect(ctx, round, plan, std::move(task), received, &out, stop));
  // A selected site that refused because the plan waits for its approval (its heartbeat says
  // so; the plan reached it while the round was being set up) is waiting, not failing.
  const std::map<std::string, std::string> pending = ctx.sites.PendingApproval();
  std::vector<SiteFailure> failures;
  for (SiteFailure& f : out.failures) {
    if (f.reason.code() == StatusCode::kPermissionDenied && pending.count(f.site_id)) {
      spdlog::info("round {}: {} waits for its approval of the plan (not a failure)", round,
                   f.site_id);
      out.awaiting_approval[f.site_id] = pending.at(f.site_id);
    } else {
      failures.push_back(std::move(f));
    }
  }
  out.failures = std::move(failures);
  if (!sum) {
    // The selected sites that did not fail for another reason: approvals alone make the round
    // when they are enough (in a secure round nobody masks once a selected site refuses).
    const int would = static_cast<int>(plan.size()) - static_cast<int>(out.failures.size());
    if (out.consumed || would < fewest) {
      out.awaiting_approval.clear();  // spent, or approvals alone would not make the round
    }
    out.round_s = std::chrono::duration<double>(Clock::now() - started).count();
    return out;
  }
  out.awaiting_approval.clear();  // the round completed: nothing to wait for
  // A sum the strategy cannot use (a mean that is not finite) fails this attempt only.
  Result<ModelState> next = ctx.strategy.Finish(round, ctx.global, *sum);
  if (!next.ok()) {
    return incomplete("the strategy could not use the sum: " + next.status().message());
  }
  next->meta = ctx.global.meta;
  ctx.global = std::move(*next);
  out.completed = true;
  collector.Completed(round, &out);
  out.round_s = std::chrono::duration<double>(Clock::now() - started).count();
  return out;
}

namespace {

// Recalibration through the collector: every training candidate of the round still live, with
// training images, recomputes the new model's statistics; their pool replaces global's.
Status Recalibrate(RoundContext& ctx, SumCollector& collector, int round,
                   const wire::EvaluateTask& task, RoundOutcome* outcome,
                   const std::function<void(const std::string&, const wire::EvaluateResult&)>&
                       on_scores,
                   std::set<std::string>* asked, const std::atomic<bool>& stop) {
  const CoordinatorConfig& c = ctx.config;
  BnRequest request;
  const std::set<std::string> candidates(outcome->candidates.begin(), outcome->candidates.end());
  for (SiteInfo& s : ctx.sites.Live()) {
    if (s.num_train > 0 && candidates.count(s.site_id)) request.sites.push_back(std::move(s));
  }
  for (const SiteInfo& s : request.sites) asked->insert(s.site_id);
  if (request.sites.empty()) return Status::Ok();
  request.task = task;
  request.task.bn_calibration_images = static_cast<uint32_t>(c.bn_recalibration_images);
  request.task.bn_calibration_batch = static_cast<uint32_t>(
      std::clamp(c.bn_recalibration_images, 2, kMaxBnCalibrationBatch));
  // The moments are relative to the model the sites decode (codec_down may round it).
  const uint64_t max_values = static_cast<uint64_t>(ctx.global.NumValues());
  ASSIGN_OR_RETURN(ModelState reference, UnpackModel(task.model.data, max_values));
  request.reference = &reference;
  request.on_scores = on_scores;
  ASSIGN_OR_RETURN(std::optional<BnPooled> pooled,
                   collector.CollectBnStatistics(ctx, round, std::move(request), outcome, stop));
  if (!pooled) return Status::Ok();
  if (Status st = ApplyBnMoments(pooled->moments, &reference); !st.ok()) {
    spdlog::warn("round {}: batch-norm statistics not recalibrated: {}", round, st.message());
    return Status::Ok();
  }
  for (const NamedTensor& t : BatchNormStatisticsOf(reference).tensors) {
    if (NamedTensor* g = ctx.global.FindMutable(t.name)) g->values = t.values;
  }
  outcome->bn_recalibration = BnRecalibration{pooled->sites, pooled->images, pooled->bytes};
  spdlog::info("round {}: batch-norm statistics recalibrated from {} images at {} site(s){}",
               round, pooled->images, pooled->sites,
               collector.secure() ? " (secure sum)" : "");
  return Status::Ok();
}

}  // namespace

Status FederatedEvaluate(RoundContext& ctx, SumCollector& collector, int round,
                         RoundOutcome* outcome, const std::atomic<bool>& stop) {
  const CoordinatorConfig& c = ctx.config;
  RETURN_IF_ERROR(ctx.sites.DrainQueued());
  std::vector<std::string> evaluators;
  if (c.federated_evaluation) evaluators = ctx.strategy.ConfigureEvaluate(round, ctx.sites.Live());
  const std::set<std::string> wanted(evaluators.begin(), evaluators.end());
  const double budget = std::min(c.round_deadline_s, 300.0);
  wire::EvaluateTask task;
  DescribeModel(ctx.global, c.codec_down, round, budget, &task);
  std::vector<EvalReport> reports;
  auto on_scores = [&](const std::string& site, const wire::EvaluateResult& r) {
    if (wanted.count(site) && r.num_samples > 0) {
      reports.push_back({site, r.num_samples, r.loss, r.accuracy});
    }
  };
  // Sites asked for statistics score the model too (with their own statistics, as they would
  // use it); the other evaluators get the model alone.
  std::set<std::string> asked;
  if (c.bn_recalibration_images > 0) {
    RETURN_IF_ERROR(Recalibrate(ctx, collector, round, task, outcome, on_scores, &asked, stop));
  }
  if (!c.federated_evaluation) return Status::Ok();
  TaskRound tasks(ctx.sites, "evaluation of round " + std::to_string(round));
  for (const std::string& id : evaluators) {
    if (asked.count(id)) continue;
    task.task_id = ctx.next_task_id++;
    tasks.Send(id, task, task.task_id, &outcome->bytes_eval_down);
  }
  auto on_reply = [&](const std::string& site, const uint64_t* task_id, wire::Message& m,
                      size_t) -> Verdict {
    if (auto* r = std::get_if<wire::EvaluateResult>(&m.body)) {
      if (task_id == nullptr || r->task_id != *task_id) return Verdict::Ignore();
      on_scores(site, *r);
      return Verdict::Answer();
    }
    if (std::holds_alternative<wire::Update>(m.body)) {
      spdlog::warn("late update from {} for a closed round: rejected", site);
    }
    return Verdict::Ignore();
  };
  if (!tasks.done()) RETURN_IF_ERROR(tasks.Collect(In(budget), stop, on_reply));
  EvalSummary s = ctx.strategy.AggregateEvaluate(round, reports, tasks.failures());
  if (s.sites > 0) outcome->federated = s;
  spdlog::info("round {} federated evaluation: accuracy {:.4f} over {} validation images at {} "
               "site(s)", round, s.accuracy, s.num_samples, s.sites);
  return Status::Ok();
}

RoundRecord RecordOf(int round, double lr, const RoundOutcome& o) {
  RoundRecord rec;
  rec.round = round;
  rec.lr = lr;
  rec.sites_selected = o.selected;
  rec.sites_reported = o.reported;
  for (const SiteFailure& f : o.failures) rec.AddFailure(f.site_id, f.reason.message());
  rec.site_val_accuracy = o.mean_site_val_accuracy;
  if (o.federated) {
    rec.federated = FederatedScores{o.federated->accuracy, o.federated->loss,
                                    o.federated->num_samples, o.federated->sites};
  }
  rec.bn_recalibration = o.bn_recalibration;
  rec.sign_flips = o.sign_flips;
  rec.bytes_eval_down = o.bytes_eval_down;
  rec.bytes_down = o.bytes_down;
  rec.bytes_up = o.bytes_up;
  rec.train_s = o.train_s;
  rec.round_s = o.round_s;
  if (o.secure) {
    // Counts and ids only: no site's (masked or unmasked) vector is ever written anywhere.
    rec.secagg = SecAggCounts{o.reported, o.dropped, o.secagg_threshold, o.secagg_neighbours,
                              o.secagg_vote_bits, o.bytes_secagg};
  }
  return rec;
}

Status AddCentralScores(CentralEvaluator& evaluator, const ModelState& global,
                        RoundRecord* rec) {
  if (evaluator.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(std::vector<HoldoutResult> results, evaluator.Evaluate(global));
  rec->central.emplace();
  double accuracy = 0, macro_f1 = 0, total = 0;
  for (const HoldoutResult& r : results) {
    rec->central->emplace_back(
        r.name, SetScores::FromConfusion(r.confusion, global.meta.class_names, r.loss));
    const double n = static_cast<double>(r.confusion.total());
    accuracy += r.confusion.Accuracy() * n;
    macro_f1 += r.confusion.MacroF1() * n;
    total += n;
  }
  if (total > 0) {
    accuracy /= total;
    macro_f1 /= total;
  }
  rec->accuracy = accuracy;
  rec->macro_f1 = macro_f1;
  return Status::Ok();
}

}  // namespace fedsmear
