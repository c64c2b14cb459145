// The work a site does for a task: local training and evaluation of the received model.
#include <spdlog/spdlog.h>

#include <functional>
#include <optional>

#include "client/latent_store.h"
#include "client/optimizer_store.h"
#include "client/site.h"
#include "models/codec.h"
#include "models/bn_statistics.h"
#include "models/latent_reinit.h"
#include "models/packed_model.h"
#include "infer/engine.h"
#include "train/bn_calibrate.h"
#include "train/engine_eval.h"
#include "train/trainer.h"

namespace fedsmear {
namespace {

Status CheckTaskModel(const ModelState& state, const std::string& arch, uint32_t classes,
                      uint32_t input_size) {
  if (state.meta.arch != arch || state.meta.classes != static_cast<int>(classes) ||
      state.meta.input_size != static_cast<int>(input_size)) {
    return InvalidArgument("task announces " + arch + " but its model blob holds " +
                           state.meta.arch);
  }
  return Status::Ok();
}

// How this site scores a model on its validation split (train/engine_eval.h).
ScoreOptions ValidationScoring(const ClientConfig& config, int input_size) {
  ScoreOptions o;
  o.engine = config.eval_engine;
  o.input_size = input_size;
  o.preprocess = config.preprocess;
  o.loader_threads = config.data.loader_threads;
  o.threads = config.threads;
  return o;
}

}  // namespace

Result<std::string> Site::PrepareTask(const std::vector<std::string>& class_names, int epochs) {
  if (!class_names.empty() && class_names != class_order_) {
    ScanOptions scan;
    scan.max_image_side = config_.data.max_image_side;
    const std::string path = config_.data.manifest.empty() ? config_.data.root : config_.data.manifest;
    ASSIGN_OR_RETURN(dataset_, OpenDataset(path, class_names, scan));
    ASSIGN_OR_RETURN(split_, TrainValSplit(dataset_, config_.data.val_fraction, config_.data.seed,
                                           config_.data.split == SplitMode::kGroup));
    class_order_ = class_names;
    spdlog::info("labels mapped onto the model's {} classes", class_names.size());
  }
  if (epochs > config_.policy.max_local_epochs) {
    return "task asks for " + std::to_string(epochs) + " local epochs; site policy allows " +
           std::to_string(config_.policy.max_local_epochs);
  }
  if (config_.policy.min_samples_per_class > 0) {
    std::vector<int64_t> counts = CountClasses(dataset_, &split_.train);
    for (size_t k = 0; k < counts.size(); ++k) {
      if (counts[k] > 0 && counts[k] < config_.policy.min_samples_per_class) {
        return "class " + dataset_.class_names[k] + " has " + std::to_string(counts[k]) +
               " samples, below the site policy's minimum of " +
               std::to_string(config_.policy.min_samples_per_class);
      }
    }
  }
  if (split_.train.size() < 2) return std::string("fewer than 2 training images");
  return std::string();
}

Result<Site::Trained> Site::TrainModel(const wire::TrainTask& task) {
  ASSIGN_OR_RETURN(ModelState global,
                   UnpackModel(task.model.data, secagg_policy_.max_model_bytes / 4));
  RETURN_IF_ERROR(CheckTaskModel(global, task.arch, task.num_classes, task.input_size));
  ASSIGN_OR_RETURN(CodecSpec uplink, ParseCodecSpec(task.codec_up));
  ASSIGN_OR_RETURN(PackOptions down, ParseDownlinkCodec(task.model.codec));
  const bool signs_down = down.binary->signs.packed;  // signs only: no latent magnitudes
  ModelState start = global;
  if (signs_down) {
    // Signs only: keep this site's own latent magnitudes where the sign agrees (see
    // models/latent_reinit.h); a weight without state starts at the task's latent_start.
    const double eps = task.latent_epsilon;  // validated > 0 by wire::Decode
    const FreshLatent fresh = task.latent_start, flip = task.latent_flip;
    if (!CheckSameLayout(global, latent_).ok()) latent_ = ModelState{};
    const LatentReinitCounts c =
        ReinitLatentFromSigns(global, &latent_, static_cast<float>(eps), fresh, flip);
    const int64_t all = c.kept + c.flipped + c.fresh;
    if (all > 0 && c.fresh < all) {
      spdlog::info("round {}: the federation's signs flipped {:.2f}% of this site's binary "
                   "weights (latent_flip {})",
                   task.round, 100.0 * static_cast<double>(c.flipped) / all,
                   settings::NameOf(task.latent_flip));
    }
    start = latent_;
    start.meta = global.meta;
  }
  ASSIGN_OR_RETURN(DenseNet model, ModelFromState(start, task.train.bn_momentum));
  TrainOptions o;
  o.train = task.train;
  o.input_size = static_cast<int>(task.input_size);
  o.preprocess = config_.preprocess;
  o.loader_threads = config_.data.loader_threads;
  o.seed = std::hash<std::string>()(config_.site_id) * 31 + task.round;
  o.proximal_anchor = task.train.fedprox_mu > 0 ? &global : nullptr;
  o.class_prior = task.class_prior;  // validated by wire::Decode: empty or num_classes shares
  if (task.train.optimizer_state != OptimizerStateMode::kFresh) {
    if (!optimizer_state_) optimizer_state_ = std::make_unique<OptimizerState>();
    o.optimizer_state = optimizer_state_.get();
  } else {
    optimizer_state_.reset();  // a run that does not keep it frees the memory
  }
  o.progress = TerminalProgress(config_.site_id + " round " + std::to_string(task.round),
                                task.train.local_epochs);
  ASSIGN_OR_RETURN(TrainStats stats, TrainLocal(model, dataset_, split_.train, o));
  wire::Update u;
  u.round = task.round;
  u.task_id = task.task_id;
  u.num_samples = static_cast<uint64_t>(stats.samples);
  u.metrics.train_loss = stats.loss;
  u.metrics.train_accuracy = stats.accuracy;
  u.metrics.train_seconds = stats.seconds;
  u.metrics.val_loss = std::nan("");
  ModelState trained = ExportState(model, global.meta.class_names);
  if (!split_.val.empty()) {
    ASSIGN_OR_RETURN(EvalStats v, EvaluateState(trained, &model, dataset_, split_.val,
                                                ValidationScoring(config_, o.input_size)));
    u.metrics.val_loss = v.loss;
    u.metrics.val_accuracy = v.confusion.Accuracy();
    u.metrics.num_val = static_cast<uint64_t>(v.confusion.total());
  }
  trained_binary_.store(static_cast<uint64_t>(trained.NumValues(TensorKind::kBinary)));
  trained_float_.store(static_cast<uint64_t>(trained.NumValues() -
                                             trained.NumValues(TensorKind::kBinary)));
  u.update.codec = CodecSpecName(uplink);
  if (signs_down) {
    // How far local training took this site from the federation's signs: its vote against them.
    const SignAgreement moved = CompareBinarySigns(trained, global);
    spdlog::info("round {}: local training left {:.2f}% of the binary weights against the "
                 "round's global signs",
                 task.round, 100.0 * moved.share());
  }
  latent_ = trained;
  if (signs_down && !config_.state_dir.empty()) {
    // Kept on disk so that a restarted site resumes from its own magnitudes (latent_store.h).
    if (Status st = SaveLatentState(config_.state_dir, latent_, state_run_id_); !st.ok()) {
      spdlog::warn("could not save the latent weights: {} (they stay in memory)", st.message());
    }
  }
  if (optimizer_state_ && !config_.state_dir.empty()) {
    // Kept on disk too, so that a restarted site continues its moments (optimizer_store.h).
    if (Status st = SaveOptimizerState(config_.state_dir, *optimizer_state_, state_run_id_);
        !st.ok()) {
      spdlog::warn("could not save the optimizer state: {} (it stays in memory)", st.message());
    }
  }
  spdlog::info("round {} trained: loss {:.4f}, train acc {:.3f}, val acc {:.3f} ({:.0f} s)",
               task.round, stats.loss, stats.accuracy, u.metrics.val_accuracy, stats.seconds);
  return Trained{std::move(global), std::move(trained), std::move(u), o.seed};
}

Result<wire::Body> Site::Train(const wire::TrainTask& task) {
  ASSIGN_OR_RETURN(Trained t, TrainModel(task));
  ASSIGN_OR_RETURN(CodecSpec uplink, ParseCodecSpec(task.codec_up));
  // Each site rounds with its own seed, so that stochastic-rounding errors average out.
  t.update.update.data = EncodeUpdate(t.trained, &t.global, uplink, t.seed);
  return wire::Body(std::move(t.update));
}

Result<SecAggInput> Site::TrainSecure(const wire::TrainTask& task,
                                      const wire::SecAggSetup& setup) {
  ASSIGN_OR_RETURN(Trained t, TrainModel(task));
  SecAggInput in;
  in.task_id = task.task_id;
  in.num_samples = static_cast<uint64_t>(split_.train.size());
  in.metrics = t.update.metrics;
  // The weight the setup names, which SecAggSession::Start checked is this site's own capped
  // count (models/contribution.h).
  const uint64_t weight = SetupWeightOf(setup, config_.site_id);
  // Fresh rounding per site and attempt (the task id differs on every retry).
  ASSIGN_OR_RETURN(in.quantized,
                   QuantizeForSetup(t.trained, t.global, weight, setup, config_.site_id,
                                    t.seed ^ (task.task_id * 0x9e3779b97f4a7c15ULL)));
  return in;
}

Result<SiteEvaluation> Site::EvaluateGlobal(const wire::EvaluateTask& task,
                                             const std::optional<wire::SecAggSetup>& setup) {
  ASSIGN_OR_RETURN(ModelState global,
                   UnpackModel(task.model.data, secagg_policy_.max_model_bytes / 4));
  RETURN_IF_ERROR(CheckTaskModel(global, task.arch, task.num_classes, task.input_size));
  // A secure session's moments are relative to the statistics of the model as received
  // (models/bn_statistics.h); only those are kept.
  const ModelState received = setup ? BatchNormStatisticsOf(global) : ModelState{};
  ASSIGN_OR_RETURN(const bool binary, UsesBinaryEngine(config_.eval_engine, global.meta.arch));
  std::optional<DenseNet> model;  // LibTorch's copy, shared by recalibration and the score
  if (!binary) {
    ASSIGN_OR_RETURN(DenseNet m, ModelFromState(global));
    model = std::move(m);
  }
  SiteEvaluation out;
  wire::EvaluateResult& r = out.result;
  r.round = task.round;
  r.task_id = task.task_id;
  if (task.bn_calibration_images > 0 && secagg_policy_.require_secure && !setup) {
    spdlog::warn("round {}: no batch-norm statistics sent: site policy requires secure "
                 "aggregation and they would travel unmasked", task.round);
  } else if (task.bn_calibration_images > 0 && !split_.train.empty()) {
    // The new weights' statistics on this site's training images; the validation score below
    // is then the global model as this site would use it, with its own statistics.
    CalibrateOptions o;
    o.input_size = static_cast<int>(task.input_size);
    o.preprocess = config_.preprocess;
    o.max_images = static_cast<int>(task.bn_calibration_images);
    o.batch_size = static_cast<int>(task.bn_calibration_batch);
    o.loader_threads = config_.data.loader_threads;
    o.seed = task.round;
    ASSIGN_OR_RETURN(const CalibrateStats calibrated,
                     CalibrateState(&global, model ? &*model : nullptr, dataset_, split_.train, o,
                                    config_.eval_engine, config_.threads));
    ModelState stats = BatchNormStatisticsOf(global);
    if (setup) {
      // The weight the setup names, which SecAggSession::Start checked is this site's own
      // count capped at the images asked for.
      SecAggInput in;
      in.task_id = task.task_id;
      in.num_samples = static_cast<uint64_t>(calibrated.images);
      const uint64_t seed = std::hash<std::string>{}(config_.site_id) ^
                            (task.task_id * 0x9e3779b97f4a7c15ULL);
      size_t clipped = 0;
      ASSIGN_OR_RETURN(in.quantized,
                       QuantizeBnMoments(stats, received, SetupWeightOf(*setup, config_.site_id),
                                         *setup, seed, &clipped));
      if (clipped > 0) {
        spdlog::warn("round {}: {} of {} batch-norm moments were clipped at +-{} for the secure "
                     "sum: this site's statistics are far from the model's, so the pooled ones "
                     "will be off", task.round, clipped, setup->vector_length, setup->clip);
      }
      out.input = std::move(in);
    } else {
      r.bn_statistics.codec = "f32";
      r.bn_statistics.data = PackModel(stats, LosslessPackOptions());
      r.bn_images = static_cast<uint64_t>(calibrated.images);
    }
  }
  if (!split_.val.empty()) {
    ASSIGN_OR_RETURN(EvalStats v, EvaluateState(
                         global, model ? &*model : nullptr, dataset_, split_.val,
                         ValidationScoring(config_, static_cast<int>(task.input_size))));
    r.loss = v.loss;
    r.accuracy = v.confusion.Accuracy();
    r.num_samples = static_cast<uint64_t>(v.confusion.total());
  }
  return out;
}

}  // namespace fedsmear
