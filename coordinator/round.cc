// One training round, and what follows it: evaluation, metrics, checkpoint, final outputs.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/file_util.h"
#include "coordinator/checkpoint.h"
#include "coordinator/server_impl.h"
#include "coordinator/task_round.h"
#include "models/codec.h"
#include "models/densenet.h"
#include "models/packed_model.h"
#include "report/report.h"
#include "report/round_record.h"

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
  blob.data = PackModel(global, options.value_or(PackOptions{BinaryCodec::kLatentF32,
                                                             FloatCodec::kF32}));
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

Result<wire::TrainTask> Coordinator::Impl::MakeTrainTask(int round, double lr,
                                                         ModelState* received) const {
  wire::TrainTask task;
  DescribeModel(global, config.codec_down, round, config.round_deadline_s, &task);
  task.codec_up = config.codec_up;
  task.latent_start = config.latent_start;
  task.latent_epsilon = config.latent_epsilon;
  task.train = config.train;
  task.train.learning_rate = lr;
  // Updates are decoded against what the sites received (q8_delta encodes differences to it).
  ASSIGN_OR_RETURN(*received, UnpackModel(task.model.data));
  return task;
}

Result<RoundOutcome> Coordinator::Impl::TrainRound(int round, const std::atomic<bool>& stop) {
  if (config.secure_aggregation == "secagg+") return SecureTrainRound(round, stop);
  RoundOutcome out;
  RETURN_IF_ERROR(sites().DrainQueued());
  auto started = Clock::now();
  const double lr = schedule.RateFor(round);
  std::vector<TrainInstruction> plan =
      strategy->ConfigureTrain(round, sites().Live(), config.train, lr, rng);
  if (static_cast<int>(plan.size()) < config.min_sites) {
    spdlog::warn("round {}: only {} site(s) available, {} required", round, plan.size(),
                 config.min_sites);
    return out;
  }
  ModelState received;
  ASSIGN_OR_RETURN(wire::TrainTask task, MakeTrainTask(round, lr, &received));

  TaskRound tasks(sites(), "round " + std::to_string(round));
  for (const TrainInstruction& ins : plan) {
    task.train = ins.config;
    task.task_id = next_task_id++;
    out.selected.push_back(ins.site_id);
    tasks.Send(ins.site_id, task, task.task_id, &out.bytes_down);
  }
  status->RoundStarted(round, out.selected);
  spdlog::info("round {}: {} site(s) selected, lr {:.2e}, model {:.2f} MiB ({})", round,
               plan.size(), lr, task.model.data.size() / 1048576.0, config.codec_down);

  std::unique_ptr<RoundAggregator> agg = strategy->BeginAggregate(round, global);
  double val_weighted = 0, val_samples = 0;
  auto on_reply = [&](const std::string& site, const uint64_t* task_id, wire::Message& m,
                      size_t bytes) -> Verdict {
    auto* u = std::get_if<wire::Update>(&m.body);
    if (u == nullptr) return Verdict::Ignore();
    out.bytes_up += bytes;
    if (u->round != static_cast<uint32_t>(round)) {
      spdlog::warn("rejected update from {}: round {} is closed (now {})", site, u->round, round);
      return Verdict::Ignore();
    }
    if (task_id == nullptr) {
      const bool selected =
          std::find(out.selected.begin(), out.selected.end(), site) != out.selected.end();
      spdlog::warn("rejected update from {}: {}", site,
                   selected ? "duplicate" : "site was not selected this round");
      return Verdict::Ignore();
    }
    if (u->task_id != *task_id) {
      spdlog::warn("rejected update from {}: unknown task {}", site, u->task_id);
      return Verdict::Ignore();
    }
    Result<ModelState> state = DecodeUpdate(u->update.data, received);
    Status st = state.ok() ? CheckSameLayout(global, *state) : state.status();
    if (st.ok()) {
      state->meta = global.meta;
      // Weighted by the hello's (capped) count, not by what the update claims (issue 16).
      st = agg->Add({site, sites().Weight(site), std::move(*state)});
    }
    if (!st.ok()) {
      spdlog::warn("rejected update from {}: {}", site, st.message());
      return Verdict::Fail(st);
    }
    out.reported.push_back(site);
    status->SetSiteState(site, "reported", "round " + std::to_string(round));
    out.train_s = std::max(out.train_s, u->metrics.train_seconds);
    if (u->metrics.num_val > 0) {
      val_weighted += u->metrics.val_accuracy * static_cast<double>(u->metrics.num_val);
      val_samples += static_cast<double>(u->metrics.num_val);
    }
    spdlog::info("round {}: update from {} ({} samples, {:.2f} MiB, train acc {:.3f})", round,
                 site, u->num_samples, bytes / 1048576.0, u->metrics.train_accuracy);
    return Verdict::Answer();
  };
  const auto deadline = started + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(config.round_deadline_s));
  RETURN_IF_ERROR(tasks.Collect(deadline, stop, on_reply));
  out.failures = tasks.failures();
  out.updates = agg->count();
  out.round_s = std::chrono::duration<double>(Clock::now() - started).count();
  out.mean_site_val_accuracy = val_samples > 0 ? val_weighted / val_samples : 0;
  if (out.updates < config.min_sites) return out;
  ASSIGN_OR_RETURN(ModelState next, agg->Finish(out.failures));
  next.meta = global.meta;
  global = std::move(next);
  out.completed = true;
  return out;
}

Status Coordinator::Impl::AfterRound(int round, const RoundOutcome& o, bool* early_stop) {
  RoundRecord rec;
  rec.round = round;
  rec.lr = schedule.RateFor(round);
  rec.sites_selected = o.selected;
  rec.sites_reported = o.reported;
  for (const SiteFailure& f : o.failures) rec.AddFailure(f.site_id, f.reason.message());
  double accuracy = 0, macro_f1 = 0;
  if (evaluator && !evaluator->empty()) {
    ASSIGN_OR_RETURN(std::vector<HoldoutResult> results, evaluator->Evaluate(global));
    rec.central.emplace();
    double total = 0;
    for (const HoldoutResult& r : results) {
      rec.central->emplace_back(
          r.name, SetScores::FromConfusion(r.confusion, global.meta.class_names, r.loss));
      double n = static_cast<double>(r.confusion.total());
      accuracy += r.confusion.Accuracy() * n;
      macro_f1 += r.confusion.MacroF1() * n;
      total += n;
    }
    if (total > 0) {
      accuracy /= total;
      macro_f1 /= total;
    }
    rec.accuracy = accuracy;
    rec.macro_f1 = macro_f1;
  }
  rec.site_val_accuracy = o.mean_site_val_accuracy;
  if (o.federated) {
    rec.federated = FederatedScores{o.federated->accuracy, o.federated->loss,
                                    o.federated->num_samples, o.federated->sites};
    rec.bytes_eval_down = o.bytes_eval_down;
  }
  rec.bytes_down = o.bytes_down;
  rec.bytes_up = o.bytes_up;
  rec.train_s = o.train_s;
  rec.round_s = o.round_s;
  if (o.secure) {
    // Counts and ids only: no site's (masked or unmasked) vector is ever written anywhere.
    rec.secagg = SecAggCounts{o.reported, o.dropped, o.secagg_threshold, o.secagg_neighbours,
                              o.secagg_vote_bits, o.bytes_secagg};
  }
  const nlohmann::ordered_json line = ToJson(rec);
  {
    std::ofstream f(std::filesystem::path(config.run_dir) / "metrics.jsonl", std::ios::app);
    f << line.dump() << "\n";
    if (!f) return IoError("cannot append to metrics.jsonl in " + config.run_dir);
  }
  status->RoundFinished(line, o.failures);
  spdlog::info("round {} done: {}/{} updates, accuracy {:.4f}, macro-F1 {:.4f}, {:.1f} MiB down, "
               "{:.1f} MiB up, {:.1f} s", round, o.reported.size(), o.selected.size(), accuracy,
               macro_f1, o.bytes_down / 1048576.0, o.bytes_up / 1048576.0, o.round_s);
  schedule.Observe(round, macro_f1);
  if (macro_f1 > best_f1 + 1e-4) {
    best_f1 = macro_f1;
    best_round = round;
    rounds_without_gain = 0;
    RETURN_IF_ERROR(WriteFileAtomic(config.run_dir + "/best.model", PackModel(global)));
  } else {
    ++rounds_without_gain;
  }
  *early_stop = config.early_stop_patience > 0 && rounds_without_gain >= config.early_stop_patience;

  Checkpoint c;
  c.round = round;
  std::ostringstream rng_state;
  rng_state << rng;
  c.header = {{"run_id", run_id},
              {"rng", rng_state.str()},
              {"next_task_id", next_task_id},
              {"best_f1", best_f1},
              {"best_round", best_round},
              {"rounds_without_gain", rounds_without_gain},
              {"lr_scale", schedule.plateau_scale()},
              {"lr_best", schedule.best_metric()},
              {"lr_since_best", schedule.rounds_since_best()}};
  c.strategy_state = strategy->SaveState();
  c.global = global;
  return SaveCheckpoint(config.run_dir, c, config.keep_checkpoints);
}

Status Coordinator::Impl::Restore() {
  ASSIGN_OR_RETURN(Checkpoint c, LoadLatestCheckpoint(config.run_dir));
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
    best_f1 = c.header.at("best_f1").get<double>();
    best_round = c.header.at("best_round").get<int>();
    rounds_without_gain = c.header.at("rounds_without_gain").get<int>();
    schedule.Restore(c.header.at("lr_scale").get<double>(), c.header.at("lr_best").get<double>(),
                     c.header.at("lr_since_best").get<int>());
  } catch (const nlohmann::json::exception& e) {
    return Corrupt(std::string("checkpoint header: ") + e.what());
  }
  global = std::move(c.global);
  next_round = c.round + 1;
  // metrics.jsonl may hold a line for a round that completed after the checkpoint was taken
  // (a crash between the two writes): keep only the checkpointed rounds.
  std::string path = config.run_dir + "/metrics.jsonl";
  Result<std::string> text = ReadFile(path);
  if (text.ok()) {
    std::istringstream in(*text);
    std::string kept, l;
    for (int line_no = 1; std::getline(in, l); ++line_no) {
      Result<RoundRecord> r = ParseRoundRecord(l, line_no);
      if (r.ok() && r->round <= c.round) kept += l + "\n";
    }
    RETURN_IF_ERROR(WriteFileAtomic(path, kept));
  }
  spdlog::info("resumed run {} after round {}", run_id, c.round);
  return Status::Ok();
}

Status Coordinator::Impl::WriteFinalOutputs() {
  RETURN_IF_ERROR(WriteFileAtomic(config.run_dir + "/final.model", PackModel(global)));
  RETURN_IF_ERROR(ExportTorchPickle(global, config.run_dir + "/final.pt"));
  ReportInfo info;
  info.title = "fedsmear run " + run_id;
  info.arch = global.meta.arch;
  info.class_names = global.meta.class_names;
  info.strategy = strategy->name();
  info.codec_down = config.codec_down;
  info.codec_up = config.codec_up;
  info.sites_total = static_cast<int>(sites().size());
  if (Status st = WriteRunReport(config.run_dir, info); !st.ok()) {
    // The model is what matters; a report problem must not fail the run.
    spdlog::warn("could not write the run report: {}", st.message());
  }
  spdlog::info("wrote {}/final.model, final.pt, report.html and summary.md (best central "
               "macro-F1 {:.4f} in round {})", config.run_dir, best_f1, best_round);
  return Status::Ok();
}

}  // namespace fedsmear

namespace fedsmear {

Result<EvalSummary> Coordinator::Impl::FederatedEvaluate(int round, uint64_t* bytes_down,
                                                         const std::atomic<bool>& stop) {
  RETURN_IF_ERROR(sites().DrainQueued());
  std::vector<std::string> ids = strategy->ConfigureEvaluate(round, sites().Live());
  if (ids.empty()) return EvalSummary{};
  const double budget = std::min(config.round_deadline_s, 300.0);
  wire::EvaluateTask task;
  DescribeModel(global, config.codec_down, round, budget, &task);
  TaskRound tasks(sites(), "evaluation of round " + std::to_string(round));
  for (const std::string& id : ids) {
    task.task_id = next_task_id++;
    tasks.Send(id, task, task.task_id, bytes_down);
  }
  std::vector<EvalReport> reports;
  auto on_reply = [&](const std::string& site, const uint64_t* task_id, wire::Message& m,
                      size_t) -> Verdict {
    if (auto* r = std::get_if<wire::EvaluateResult>(&m.body)) {
      if (task_id == nullptr || r->task_id != *task_id) return Verdict::Ignore();
      reports.push_back({site, r->num_samples, r->loss, r->accuracy});
      return Verdict::Answer();
    }
    if (std::holds_alternative<wire::Update>(m.body)) {
      spdlog::warn("late update from {} for a closed round: rejected", site);
    }
    return Verdict::Ignore();
  };
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(budget));
  RETURN_IF_ERROR(tasks.Collect(deadline, stop, on_reply));
  EvalSummary s = strategy->AggregateEvaluate(round, reports, tasks.failures());
  spdlog::info("round {} federated evaluation: accuracy {:.4f} over {} validation images at {} "
               "site(s)", round, s.accuracy, s.num_samples, s.sites);
  return s;
}

}  // namespace fedsmear
