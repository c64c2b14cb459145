#include "tools/train_commands.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>

#include "common/file_util.h"
#include "data/preprocess.h"
#include "data/split.h"
#include "models/packed_model.h"
#include "train/bn_calibrate.h"
#include "train/engine_eval.h"
#include "train/trainer.h"

namespace fedsmear {
namespace {

int Fail(const std::string& cmd, const Status& st) {
  std::cerr << "fedsmear " << cmd << ": " << st.message() << "\n";
  return 1;
}

// --engine: auto (the default: the 1-bit engine for binarized models), binary or torch.
Result<EvalEngine> ParseEngineFlag(const std::string& engine) {
  if (engine.empty()) return EvalEngine::kAuto;
  const std::optional<EvalEngine> parsed = settings::ParseEnum<EvalEngine>(engine);
  if (!parsed) {
    return InvalidArgument("--engine must be one of " + settings::EnumList<EvalEngine>() +
                           ", not " + engine);
  }
  return *parsed;
}

Result<bool> UseBinaryEngine(const std::string& engine, const ModelMeta& meta) {
  ASSIGN_OR_RETURN(EvalEngine parsed, ParseEngineFlag(engine));
  return UsesBinaryEngine(parsed, meta.arch);
}

std::vector<size_t> AllIndices(const Dataset& d) {
  std::vector<size_t> idx(d.samples.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  return idx;
}

struct TrainCmd {
  std::string arch = "bdn28";
  std::string data;
  std::string holdout;
  std::string out = "model.model";
  std::string init;
  int epochs = 4;
  int input_size = 64;
  int batch_size = 32;
  double lr = 1e-3;
  double val_fraction = 0.1;
  int threads = 2;
  int loader_threads = 1;
  int seed = 1;
  bool group_split = false;
  double logit_adjustment = 0;  // centralized training sees the pooled prior: plain CE
  std::string engine;           // scores each epoch: auto | binary | torch
};

int RunTrain(const TrainCmd& c) {
  torch::manual_seed(c.seed);
  torch::set_num_threads(c.threads);
  Result<Dataset> data = OpenDataset(c.data, {});
  if (!data.ok()) return Fail("train", data.status());
  Result<TrainValIndices> split = TrainValSplit(*data, c.val_fraction, c.seed, c.group_split);
  if (!split.ok()) return Fail("train", split.status());
  const int classes = static_cast<int>(data->class_names.size());
  Result<DenseNet> model = MakeModel(c.arch, classes, c.input_size);
  if (!model.ok()) return Fail("train", model.status());
  if (!c.init.empty()) {
    Result<ModelState> init = LoadModelFile(c.init);
    if (!init.ok()) return Fail("train", init.status());
    if (Status st = ImportState(*init, *model); !st.ok()) return Fail("train", st);
  }
  Result<Dataset> holdout = Dataset{};
  if (!c.holdout.empty()) {
    holdout = OpenDataset(c.holdout, data->class_names);
    if (!holdout.ok()) return Fail("train", holdout.status());
  }
  std::printf("train: %s on %zu images (%zu train, %zu val), %d classes, %d px\n", c.arch.c_str(),
              data->samples.size(), split->train.size(), split->val.size(), classes,
              c.input_size);
  TrainOptions o;
  o.train.local_epochs = c.epochs;
  o.train.batch_size = c.batch_size;
  o.train.learning_rate = c.lr;
  o.train.logit_adjustment = c.logit_adjustment;
  o.input_size = c.input_size;
  o.loader_threads = c.loader_threads;
  o.seed = static_cast<uint64_t>(c.seed);
  o.epoch_lr = [&c](int e) {  // cosine over the epochs
    return 0.5 * c.lr * (1 + std::cos(M_PI * e / std::max(1, c.epochs)));
  };
  o.progress = TerminalProgress("train", c.epochs);
  ScoreOptions scoring;
  scoring.input_size = c.input_size;
  scoring.loader_threads = c.loader_threads;
  scoring.threads = c.threads;
  Result<EvalEngine> engine = ParseEngineFlag(c.engine);
  if (!engine.ok()) return Fail("train", engine.status());
  scoring.engine = *engine;
  auto epoch_start = std::chrono::steady_clock::now();
  o.on_epoch = [&](int epoch, const TrainStats& s) -> Status {
    const double train_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    std::printf("epoch %2d  loss %.4f  train acc %.4f", epoch + 1, s.loss, s.accuracy);
    const ModelState state = ExportState(*model, data->class_names);
    ASSIGN_OR_RETURN(StateScorer scorer, StateScorer::Create(state, &*model, scoring));
    if (!split->val.empty()) {
      ASSIGN_OR_RETURN(EvalStats v, scorer.Score(*data, split->val));
      std::printf("  val acc %.4f  val macro-F1 %.4f", v.confusion.Accuracy(),
                  v.confusion.MacroF1());
    }
    if (!c.holdout.empty()) {
      ASSIGN_OR_RETURN(EvalStats h, scorer.Score(*holdout, AllIndices(*holdout)));
      std::printf("  holdout acc %.4f  macro-F1 %.4f", h.confusion.Accuracy(),
                  h.confusion.MacroF1());
    }
    std::printf("  (%.0f s)\n", train_s);
    std::fflush(stdout);
    (*model)->train();
    epoch_start = std::chrono::steady_clock::now();
    return Status::Ok();
  };
  Result<TrainStats> stats = TrainLocal(*model, *data, split->train, o);
  if (!stats.ok()) return Fail("train", stats.status());
  ModelState state = ExportState(*model, data->class_names);
  if (Status st = WriteFileAtomic(c.out, PackModel(state)); !st.ok()) return Fail("train", st);
  std::string latent = c.out + ".f32";
  if (Status st = WriteFileAtomic(latent, PackModel(state, LosslessPackOptions())); !st.ok()) {
    return Fail("train", st);
  }
  std::printf("wrote %s (packed) and %s (latent weights, for further training); "
              "%.0f s training, %.1f%% waiting for data\n",
              c.out.c_str(), latent.c_str(), stats->seconds,
              100.0 * stats->data_wait_s / std::max(1e-9, stats->seconds));
  return 0;
}

struct EvalCmd {
  std::string model;
  std::string data;
  std::string engine;
  bool json = false;
  int threads = 2;
};

int RunEvaluate(const EvalCmd& c) {
  torch::set_num_threads(c.threads);
  Result<ModelState> state = LoadModelFile(c.model);
  if (!state.ok()) return Fail("evaluate", state.status());
  Result<EvalEngine> engine = ParseEngineFlag(c.engine);
  if (!engine.ok()) return Fail("evaluate", engine.status());
  Result<Dataset> data = OpenDataset(c.data, state->meta.class_names);
  if (!data.ok()) return Fail("evaluate", data.status());
  ScoreOptions so;
  so.engine = *engine;
  so.input_size = state->meta.input_size;
  so.threads = c.threads;
  Result<StateScorer> scorer = StateScorer::Create(*state, nullptr, so);
  if (!scorer.ok()) return Fail("evaluate", scorer.status());
  const bool binary = scorer->binary();
  Result<EvalStats> ev = scorer->Score(*data, AllIndices(*data), TerminalProgress("evaluate", 0));
  if (!ev.ok()) return Fail("evaluate", ev.status());
  nlohmann::ordered_json j = ev->confusion.ToJson(data->class_names);
  j["engine"] = binary ? "binary" : "torch";
  j["loss"] = ev->loss;
  j["skipped_files"] = data->skipped.size();
  j["unknown_classes"] = data->unknown_classes;
  if (c.json) {
    std::cout << j.dump() << "\n";
  } else {
    std::printf("%s on %s (%s engine): accuracy %.4f, macro-F1 %.4f, %lld images\n",
                c.model.c_str(), c.data.c_str(), binary ? "binary" : "torch",
                ev->confusion.Accuracy(), ev->confusion.MacroF1(),
                static_cast<long long>(ev->confusion.total()));
    for (const auto& pc : j["per_class"]) {
      std::printf("  %-16s precision %.3f recall %.3f f1 %.3f support %lld\n",
                  pc["class"].get<std::string>().c_str(), pc["precision"].get<double>(),
                  pc["recall"].get<double>(), pc["f1"].get<double>(),
                  static_cast<long long>(pc["support"].get<int64_t>()));
    }
  }
  return 0;
}

struct CalibrateCmd {
  std::string model;
  std::string data;
  std::string out;
  int images = 1024;
  int batch_size = kMaxBnCalibrationBatch;
  int threads = 2;
  uint64_t seed = 1;
  std::string engine;
};

// Recomputes the model's batch-norm statistics on an image set (train/bn_calibrate.h): a site
// adapting the global model to its own images, or a researcher checking what the federated
// bn_recalibration stage would gain.
int RunCalibrate(const CalibrateCmd& c) {
  torch::set_num_threads(c.threads);
  Result<ModelState> state = LoadModelFile(c.model);
  if (!state.ok()) return Fail("calibrate", state.status());
  Result<Dataset> data = OpenDataset(c.data, state->meta.class_names);
  if (!data.ok()) return Fail("calibrate", data.status());
  Result<EvalEngine> engine = ParseEngineFlag(c.engine);
  if (!engine.ok()) return Fail("calibrate", engine.status());
  Result<bool> binary = UsesBinaryEngine(*engine, state->meta.arch);
  if (!binary.ok()) return Fail("calibrate", binary.status());
  CalibrateOptions o;
  o.input_size = state->meta.input_size;
  o.max_images = c.images;
  o.batch_size = c.batch_size;
  o.loader_threads = 1;
  o.seed = c.seed;
  ModelState out = *state;
  Result<CalibrateStats> stats =
      CalibrateState(&out, nullptr, *data, AllIndices(*data), o, *engine, c.threads);
  if (!stats.ok()) return Fail("calibrate", stats.status());
  if (Status st = WriteFileAtomic(c.out, PackModel(out)); !st.ok()) return Fail("calibrate", st);
  std::printf("wrote %s: batch-norm statistics from %lld images of %s (%lld batches, %s)\n",
              c.out.c_str(), static_cast<long long>(stats->images), c.data.c_str(),
              static_cast<long long>(stats->batches), *binary ? "1-bit engine" : "LibTorch");
  return 0;
}

struct PredictCmd {
  std::string model;
  std::vector<std::string> images;
  std::string engine;
  bool json = false;
};

// Class probabilities of one preprocessed image with whichever engine is loaded.
class Predictor {
 public:
  static Result<Predictor> Make(const ModelState& state, bool binary) {
    Predictor p;
    if (binary) {
      ASSIGN_OR_RETURN(infer::BinaryEngine e, infer::BinaryEngine::FromState(state));
      p.engine_ = std::make_shared<infer::BinaryEngine>(std::move(e));
    } else {
      ASSIGN_OR_RETURN(DenseNet m, ModelFromState(state));
      m->eval();
      p.model_ = m;
    }
    p.classes_ = state.meta.classes;
    p.size_ = state.meta.input_size;
    return p;
  }
  std::vector<double> Probabilities(std::vector<float>& chw) {
    std::vector<float> logits(classes_);
    if (engine_) {
      engine_->Forward(chw.data(), 1, logits.data());
    } else {
      torch::NoGradGuard no_grad;
      torch::Tensor y = model_->forward(torch::from_blob(chw.data(), {1, 3, size_, size_}));
      std::copy(y.data_ptr<float>(), y.data_ptr<float>() + classes_, logits.begin());
    }
    return Softmax(logits.data(), classes_);
  }

 private:
  std::shared_ptr<infer::BinaryEngine> engine_;
  DenseNet model_{nullptr};
  int classes_ = 0;
  int size_ = 0;
};

int RunPredict(const PredictCmd& c) {
  Result<ModelState> state = LoadModelFile(c.model);
  if (!state.ok()) return Fail("predict", state.status());
  Result<bool> binary = UseBinaryEngine(c.engine, state->meta);
  if (!binary.ok()) return Fail("predict", binary.status());
  Result<Predictor> predictor = Predictor::Make(*state, *binary);
  if (!predictor.ok()) return Fail("predict", predictor.status());
  const int s = state->meta.input_size;
  const auto& names = state->meta.class_names;
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  int failures = 0;
  for (const std::string& path : c.images) {
    Result<cv::Mat> img = DecodeImage(path, DataConfig{}.max_image_side);
    if (!img.ok()) {
      std::cerr << "fedsmear predict: " << path << ": " << img.status().message() << "\n";
      out.push_back({{"image", path}, {"error", img.status().message()}});
      ++failures;
      continue;
    }
    std::vector<float> chw(3 * s * s);
    ToTensorCHW(*img, s, PreprocessConfig{}, chw.data());
    std::vector<double> p = predictor->Probabilities(chw);
    const int64_t best = std::max_element(p.begin(), p.end()) - p.begin();
    nlohmann::ordered_json probs;
    for (int k = 0; k < static_cast<int>(p.size()); ++k) {
      probs[k < static_cast<int>(names.size()) ? names[k] : std::to_string(k)] = p[k];
    }
    std::string label = best < static_cast<int64_t>(names.size()) ? names[best] : std::to_string(best);
    out.push_back({{"image", path}, {"class", label}, {"probabilities", probs}});
    if (!c.json) std::printf("%s\t%s\t%.3f\n", path.c_str(), label.c_str(), p[best]);
  }
  if (c.json) std::cout << out.dump() << "\n";
  return failures ? 1 : 0;
}

}  // namespace

Command AddTrainCommand(CLI::App& root) {
  auto c = std::make_shared<TrainCmd>();
  CLI::App* app = root.add_subcommand("train", "centralized training on one image folder");
  app->add_option("--arch", c->arch, "architecture")->capture_default_str();
  app->add_option("--data", c->data, "image folder root/<class>/ or CSV manifest")->required();
  app->add_option("--holdout", c->holdout, "held-out image folder evaluated each epoch");
  app->add_option("--epochs", c->epochs, "epochs")->capture_default_str();
  app->add_option("--out", c->out, "packed model to write")->capture_default_str();
  app->add_option("--init", c->init, "start from this model file");
  app->add_option("--input-size", c->input_size, "input side in pixels")->capture_default_str();
  app->add_option("--batch-size", c->batch_size, "batch size")->capture_default_str();
  app->add_option("--lr", c->lr, "peak learning rate (cosine schedule)")->capture_default_str();
  app->add_option("--val-fraction", c->val_fraction, "validation share")->capture_default_str();
  app->add_flag("--group-split", c->group_split, "keep one smear/cell group on one side");
  app->add_option("--threads", c->threads, "torch threads")->capture_default_str();
  app->add_option("--loader-threads", c->loader_threads, "decoding threads")->capture_default_str();
  app->add_option("--seed", c->seed, "seed")->capture_default_str();
  app->add_option("--logit-adjustment", c->logit_adjustment,
                  "tau of the loss's logit adjustment by the class prior (0 = plain CE)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 4.0));
  app->add_option("--engine", c->engine,
                  "scores each epoch's model: auto (the 1-bit engine for binarized models), "
                  "binary or torch");
  return {app, [c] { return RunTrain(*c); }};
}

Command AddEvaluateCommand(CLI::App& root) {
  auto c = std::make_shared<EvalCmd>();
  CLI::App* app = root.add_subcommand("evaluate", "metrics of a model file on an image folder");
  app->add_option("--model", c->model, "packed or float model file")->required();
  app->add_option("--data", c->data, "image folder root/<class>/ or CSV manifest")->required();
  app->add_flag("--json", c->json, "print one JSON object");
  app->add_option("--engine", c->engine,
                  "binary (XNOR-popcount, the default for binarized models) or torch");
  app->add_option("--threads", c->threads, "torch threads / binary-engine threads")
      ->capture_default_str();
  return {app, [c] { return RunEvaluate(*c); }};
}

Command AddCalibrateCommand(CLI::App& root) {
  auto c = std::make_shared<CalibrateCmd>();
  CLI::App* app = root.add_subcommand(
      "calibrate", "recompute a model's batch-norm statistics on an image folder");
  app->add_option("--model", c->model, "packed or float model file")->required();
  app->add_option("--data", c->data, "image folder root/<class>/ or CSV manifest")->required();
  app->add_option("--out", c->out, "packed model to write")->required();
  app->add_option("--images", c->images, "at most this many images (a seeded random subset)")
      ->capture_default_str()
      ->check(CLI::Range(2, 10000000));
  app->add_option("--batch-size", c->batch_size,
                  "images per batch: one batch of every image (the default, up to 1024) gives "
                  "the statistics eval mode uses; the training batch size gives train-mode ones")
      ->capture_default_str()
      ->check(CLI::Range(2, 4096));
  app->add_option("--threads", c->threads, "torch threads / binary-engine threads")
      ->capture_default_str();
  app->add_option("--seed", c->seed, "seed of the subset")->capture_default_str();
  app->add_option("--engine", c->engine,
                  "auto (the default: the 1-bit engine for binarized models, as the sites "
                  "calibrate), binary or torch");
  return {app, [c] { return RunCalibrate(*c); }};
}

Command AddPredictCommand(CLI::App& root) {
  auto c = std::make_shared<PredictCmd>();
  CLI::App* app = root.add_subcommand("predict", "classify images with a model file");
  app->add_option("--model", c->model, "packed or float model file")->required();
  app->add_option("images", c->images, "image files")->required();
  app->add_option("--engine", c->engine,
                  "binary (XNOR-popcount, the default for binarized models) or torch");
  app->add_flag("--json", c->json, "print JSON");
  return {app, [c] { return RunPredict(*c); }};
}

}  // namespace fedsmear
