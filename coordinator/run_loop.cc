// The coordinator's run loop: rounds, retries, what follows each round (central evaluation,
// metrics, best model, checkpoint: RunLog) and the final outputs; resume from a checkpoint.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

#include "coordinator/server_impl.h"
#include "models/latent_reinit.h"

namespace fedsmear {

RoundContext Coordinator::Impl::ContextFor(int round) {
  return RoundContext{config, sites(), *strategy, *status, global,
                      rng,    next_task_id, schedule.RateFor(round)};
}

Status Coordinator::Run(const std::atomic<bool>& stop) {
  Status st = impl_->RunLoop(stop);
  impl_->status->RunEnded(st);
  return st;
}

Status Coordinator::Impl::RunLoop(const std::atomic<bool>& stop) {
  const CoordinatorConfig& c = config;
  if (next_round > c.rounds) {
    // Resumed after its last round (a restarted service on a finished run): nothing to wait for.
    spdlog::info("run {} is already complete ({} rounds)", run_id, c.rounds);
    return WriteFinalOutputs();
  }
  const int start = std::max(c.min_sites, c.start_sites);
  spdlog::info("waiting up to {:.0f} s for {} site(s)", c.wait_for_sites_s, start);
  status->SetStage(0, "waiting for sites", std::to_string(start) + " needed");
  Status st = WaitForSites(start, c.wait_for_sites_s, stop);
  if (!st.ok() && start > c.min_sites && static_cast<int>(sites().Live().size()) >= c.min_sites) {
    spdlog::warn("{}; starting with {} site(s)", st.message(), sites().Live().size());
    st = Status::Ok();
  }
  if (!st.ok()) {
    SayGoodbye(st.message());
    return st;
  }
  int retries = 0;
  bool any_completed = next_round > 1;  // a resumed run completed rounds before
  for (int round = next_round; round <= c.rounds;) {
    if (stop.load()) return Aborted("stopped after round " + std::to_string(round - 1));
    status->SetStage(round, "training");
    // The signs the round starts from, to count how many of them it flips (binary models).
    const ModelState before =
        global.NumValues(TensorKind::kBinary) > 0 ? global : ModelState{};
    RoundContext ctx = ContextFor(round);
    // An attempt that cannot complete is an outcome; only the transport's errors (and a stop)
    // end the run here.
    Result<RoundOutcome> outcome = TrainRound(ctx, *collector, round, stop);
    if (!outcome.ok()) return outcome.status();
    AuditRound(round, *outcome);
    if (!outcome->completed) {
      status->RoundFinished({{"round", round}}, outcome->failures, /*completed=*/false);
      status->SetStage(round, "waiting to retry", outcome->incomplete_reason);
      if (!outcome->awaiting_approval.empty()) {
        // Approval is a state: wait for it (WaitForSites, up to approval_wait_s), no retry used.
        const int needed = std::max(c.min_sites, collector->MinSites());
        if (Status st = WaitForSites(needed, c.wait_for_sites_s, stop); !st.ok()) {
          if (st.code() == StatusCode::kAborted) return st;
          SayGoodbye(st.message());
          return st;
        }
        RETURN_IF_ERROR(Pause(1.0, stop));
        continue;
      }
      // A culprit search's attempts each narrow the suspects: they are bounded by the number of
      // sites and do not use up the retries.
      if (!outcome->searching && ++retries > c.max_round_retries) {
        std::string why = "round " + std::to_string(round) + " failed " +
                          std::to_string(retries) + " times; stopping the run";
        if (!outcome->incomplete_reason.empty())
          why += " (last: " + outcome->incomplete_reason + ")";
        SayGoodbye(why);
        return Unavailable(why);
      }
      spdlog::warn("round {} incomplete ({}): {} {}/{}", round, outcome->incomplete_reason,
                   outcome->searching ? "searching, retry" : "retry", retries,
                   c.max_round_retries);
      if (outcome->consumed) {
        // Sites masked their inputs for this round and refuse a second sum of it (a second sum
        // over other peers could be subtracted from the first): the run goes on with the next
        // round from the same model, and this round stays without a record.
        spdlog::warn("round {} is spent: sites sent masked inputs for it; going on with round "
                     "{} from the same model", round, round + 1);
        next_round = ++round;
      }
      // Give sites time to come back (or finish work they started for a crashed predecessor).
      RETURN_IF_ERROR(Pause(std::min(10.0, c.round_deadline_s / 10), stop));
      (void)WaitForSites(c.min_sites, c.wait_for_sites_s, stop);
      continue;
    }
    retries = 0;
    any_completed = true;
    if (const SignAgreement flips = CompareBinarySigns(before, global); flips.total > 0) {
      outcome->sign_flips = flips.share();
    }
    const auto eval_started = std::chrono::steady_clock::now();
    if (c.federated_evaluation || c.bn_recalibration_images > 0) {
      status->SetStage(round, "federated evaluation");
      RETURN_IF_ERROR(FederatedEvaluate(ctx, *collector, round, &*outcome, stop));
    }
    bool early_stop = false;
    status->SetStage(round, "central evaluation and checkpoint");
    RETURN_IF_ERROR(FinishRound(round, *outcome, eval_started, &early_stop));
    next_round = ++round;
    if (early_stop) {
      spdlog::info("central macro-F1 has not improved for {} rounds: stopping early",
                   c.early_stop_patience);
      break;
    }
  }
  if (!any_completed) {
    // Every round was spent on attempts that could not complete (sites masked, sums spoiled).
    const std::string why = "no round of the run completed";
    SayGoodbye(why);
    return Unavailable(why);
  }
  RETURN_IF_ERROR(WriteFinalOutputs());
  SayGoodbye("run complete");
  return Status::Ok();
}

Status Coordinator::Impl::FinishRound(int round, const RoundOutcome& o,
                                      std::chrono::steady_clock::time_point eval_started,
                                      bool* early_stop) {
  RoundRecord rec = RecordOf(round, schedule.RateFor(round), o);
  for (const SiteInfo& s : sites().Live()) {
    if (std::find(o.selected.begin(), o.selected.end(), s.site_id) != o.selected.end()) {
      rec.site_images.push_back({s.site_id, static_cast<int64_t>(s.num_train),
                                 static_cast<int64_t>(s.num_val)});
    }
  }
  if (evaluator) RETURN_IF_ERROR(AddCentralScores(*evaluator, global, &rec));
  rec.eval_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_started).count();
  ASSIGN_OR_RETURN(nlohmann::ordered_json line, log.Record(rec, global));
  status->RoundFinished(line, o.failures);
  const double macro_f1 = rec.macro_f1.value_or(0);
  spdlog::info("round {} done: {}/{} updates, accuracy {:.4f}, macro-F1 {:.4f}, {:.1f} MiB down, "
               "{:.1f} MiB up, {:.1f} s{}", round, o.reported.size(), o.selected.size(),
               rec.accuracy.value_or(0), macro_f1, o.bytes_down / 1048576.0,
               o.bytes_up / 1048576.0, o.round_s,
               o.sign_flips ? fmt::format(", {:.3f}% of binary signs flipped",
                                          100 * *o.sign_flips)
                            : std::string());
  schedule.Observe(round, macro_f1);
  *early_stop = log.ShouldStopEarly();
  std::ostringstream rng_state;
  rng_state << rng;
  nlohmann::json run_state = {{"run_id", run_id},
                              {"rng", rng_state.str()},
                              {"next_task_id", next_task_id},
                              {"lr_scale", schedule.plateau_scale()},
                              {"lr_best", schedule.best_metric()},
                              {"lr_since_best", schedule.rounds_since_best()}};
  return log.SaveCheckpoint(round, std::move(run_state), strategy->SaveState(), global);
}

Status Coordinator::Impl::Restore() {
  ASSIGN_OR_RETURN(Checkpoint c, log.Resume());
  const ModelSpec& m = config.model;
  if (c.global.meta.arch != m.arch || c.global.meta.classes != m.classes) {
    return InvalidArgument("checkpoint holds " + c.global.meta.arch + ", config asks for " + m.arch);
  }
  RETURN_IF_ERROR(strategy->LoadState(c.strategy_state));
  try {
    run_id = c.header.at("run_id").get<std::string>();
    std::istringstream rng_state(c.header.at("rng").get<std::string>());
    rng_state >> rng;
    next_task_id = c.header.at("next_task_id").get<uint64_t>();
    schedule.Restore(c.header.at("lr_scale").get<double>(), c.header.at("lr_best").get<double>(),
                     c.header.at("lr_since_best").get<int>());
  } catch (const nlohmann::json::exception& e) {
    return Corrupt(std::string("checkpoint header: ") + e.what());
  }
  global = std::move(c.global);
  next_round = c.round + 1;
  spdlog::info("resumed run {} after round {}", run_id, c.round);
  return Status::Ok();
}

Status Coordinator::Impl::WriteFinalOutputs() {
  ReportInfo info;
  info.title = "fedsmear run " + run_id;
  info.arch = global.meta.arch;
  info.class_names = global.meta.class_names;
  info.strategy = strategy->name();
  info.codec_down = config.codec_down;
  info.codec_up = config.codec_up;
  info.sites_total = static_cast<int>(sites().size());
  return log.WriteFinal(global, info);
}

}  // namespace fedsmear
