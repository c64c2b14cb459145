// The plain collector (coordinator/sum_collector.h): TrainTasks out, Updates in the clear, each
// decoded against the model the sites received and folded into a PlainSum with the weight the
// site registry holds for it (its hello's training-set size, capped: models/contribution.h).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "coordinator/plain_sum.h"
#include "coordinator/sum_collector.h"
#include "coordinator/task_round.h"
#include "models/bn_statistics.h"
#include "models/codec.h"
#include "models/packed_model.h"

namespace fedsmear {
namespace {

class PlainCollector : public SumCollector {
 public:
  bool secure() const override { return false; }
  bool Provides(StrategyNeeds) const override { return true; }

  Result<std::optional<RoundSum>> Collect(RoundContext& ctx, int round,
                                          const std::vector<TrainInstruction>& plan,
                                          wire::TrainTask task, const ModelState& received,
                                          RoundOutcome* out,
                                          const std::atomic<bool>& stop) override {
    const auto started = Clock::now();
    TaskRound tasks(ctx.sites, "round " + std::to_string(round));
    for (const TrainInstruction& ins : plan) {
      task.train = ins.config;
      task.task_id = ctx.next_task_id++;
      out->selected.push_back(ins.site_id);
      tasks.Send(ins.site_id, task, task.task_id, &out->bytes_down);
    }
    ctx.status.RoundStarted(round, out->selected);
    spdlog::info("round {}: {} site(s) selected, lr {:.2e}, model {:.2f} MiB ({})", round,
                 plan.size(), ctx.lr, task.model.data.size() / 1048576.0,
                 ctx.config.codec_down);
    PlainSum sum(received, ctx.strategy.Contribution(), ctx.config.aggregation_threads);
    double val_weighted = 0, val_samples = 0;
    auto on_reply = [&](const std::string& site, const uint64_t* task_id, wire::Message& m,
                        size_t bytes) -> Verdict {
      auto* u = std::get_if<wire::Update>(&m.body);
      if (u == nullptr) return Verdict::Ignore();
      out->bytes_up += bytes;
      if (u->round != static_cast<uint32_t>(round)) {
        spdlog::warn("rejected update from {}: round {} is closed (now {})", site, u->round,
                     round);
        return Verdict::Ignore();
      }
      if (task_id == nullptr) {
        const bool selected = std::find(out->selected.begin(), out->selected.end(), site) !=
                              out->selected.end();
        spdlog::warn("rejected update from {}: {}", site,
                     selected ? "duplicate" : "site was not selected this round");
        return Verdict::Ignore();
      }
      if (u->task_id != *task_id) {
        spdlog::warn("rejected update from {}: unknown task {}", site, u->task_id);
        return Verdict::Ignore();
      }
      Result<ModelState> state = DecodeUpdate(u->update.data, received);
      Status st = state.ok() ? CheckSameLayout(received, *state) : state.status();
      // Weighted by the hello's (capped) count, never by what the update claims.
      const uint64_t weight = ctx.sites.Weight(site);
      if (st.ok()) {
        state->meta = received.meta;
        st = sum.Add(*state, static_cast<double>(weight));
      }
      if (!st.ok()) {
        spdlog::warn("rejected update from {}: {}", site, st.message());
        return Verdict::Fail(st);
      }
      out->reported.push_back(site);
      ctx.status.SetSiteState(site, "reported", "round " + std::to_string(round));
      out->train_s = std::max(out->train_s, u->metrics.train_seconds);
      if (u->metrics.num_val > 0) {
        val_weighted += u->metrics.val_accuracy * static_cast<double>(u->metrics.num_val);
        val_samples += static_cast<double>(u->metrics.num_val);
      }
      // num_samples is what the site trained on this round, not its weight.
      spdlog::info("round {}: update from {} (weight {}, {} images trained, {:.2f} MiB, "
                   "train acc {:.3f})",
                   round, site, weight, u->num_samples, bytes / 1048576.0,
                   u->metrics.train_accuracy);
      return Verdict::Answer();
    };
    const auto deadline =
        started + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(ctx.config.round_deadline_s));
    RETURN_IF_ERROR(tasks.Collect(deadline, stop, on_reply));
    out->failures = tasks.failures();
    out->updates = sum.count();
    out->mean_site_val_accuracy = val_samples > 0 ? val_weighted / val_samples : 0;
    if (out->updates < ctx.config.min_sites) {
      out->incomplete_reason = std::to_string(out->updates) + " update(s) < min_sites " +
                               std::to_string(ctx.config.min_sites);
      return std::optional<RoundSum>();
    }
    ASSIGN_OR_RETURN(RoundSum s, sum.Sum());
    return std::optional<RoundSum>(std::move(s));
  }

  Result<std::optional<BnPooled>> CollectBnStatistics(RoundContext& ctx, int round,
                                                      BnRequest request, RoundOutcome* out,
                                                      const std::atomic<bool>& stop) override {
    const double budget = std::min(ctx.config.round_deadline_s, 300.0);
    TaskRound tasks(ctx.sites, "batch-norm statistics of round " + std::to_string(round));
    for (const SiteInfo& s : request.sites) {
      request.task.task_id = ctx.next_task_id++;
      tasks.Send(s.site_id, request.task, request.task.task_id, &out->bytes_eval_down);
    }
    const ModelState& reference = *request.reference;
    const uint64_t max_stat_values = static_cast<uint64_t>(reference.NumValues(TensorKind::kStat));
    BnPooled pooled;
    pooled.moments.assign(BnMomentCount(reference), 0.0);
    auto on_reply = [&](const std::string& site, const uint64_t* task_id, wire::Message& m,
                        size_t bytes) -> Verdict {
      auto* r = std::get_if<wire::EvaluateResult>(&m.body);
      if (r == nullptr || task_id == nullptr || r->task_id != *task_id) return Verdict::Ignore();
      if (request.on_scores) request.on_scores(site, *r);
      if (r->bn_images == 0) return Verdict::Answer();
      // A site weighs by the images it says it used, at most what it was asked for; one whose
      // statistics do not fit the model is left out (and logged), the rest still pool.
      Result<ModelState> stats = UnpackModel(r->bn_statistics.data, max_stat_values);
      Result<std::vector<double>> moments =
          stats.ok() ? BnMomentsOf(*stats, reference) : stats.status();
      if (!moments.ok()) {
        spdlog::warn("round {}: batch-norm statistics of {} left out: {}", round, site,
                     moments.status().message());
        return Verdict::Answer();
      }
      const uint64_t n = std::min<uint64_t>(r->bn_images, request.task.bn_calibration_images);
      for (size_t k = 0; k < moments->size(); ++k) {
        pooled.moments[k] += static_cast<double>(n) * (*moments)[k];
      }
      pooled.sites += 1;
      pooled.images += n;
      pooled.bytes += bytes;
      return Verdict::Answer();
    };
    RETURN_IF_ERROR(tasks.Collect(In(budget), stop, on_reply));
    if (pooled.images == 0) return std::optional<BnPooled>();
    for (double& x : pooled.moments) x /= static_cast<double>(pooled.images);
    return std::optional<BnPooled>(std::move(pooled));
  }
};

}  // namespace

std::unique_ptr<SumCollector> MakePlainCollector() { return std::make_unique<PlainCollector>(); }

}  // namespace fedsmear
