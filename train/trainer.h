// Local training and evaluation of a DenseNet on a site's images: the code a hospital runs each
// round, `fedsmear train` runs centrally, and the coordinator uses for held-out evaluation.
//
// Batches come from data/'s BatchLoader (decoding on worker threads); the optimizer is
// Adam or SGD per TrainConfig (optionally resuming the moments of the site's previous round,
// train/optimizer_state.h), for local_epochs passes or at most local_steps steps; binary
// latent weights are clipped after every step; CutMix batches use the mixed loss; class
// weights and the FedProx proximal term are optional.
// Failures inside LibTorch are converted to Status here.
// Thread-safety: one call at a time per model. Ownership: borrows model and dataset.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/metrics.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "models/densenet.h"
#include "train/optimizer_state.h"
#include "train/progress.h"

namespace fedsmear {

struct TrainStats {
  double loss = 0;          // mean loss of the last (possibly partial: local_steps) epoch
  double accuracy = 0;      // training accuracy of the last epoch (hard labels)
  int64_t samples = 0;      // images seen in the last epoch
  double seconds = 0;       // wall time of all epochs
  double data_wait_s = 0;   // time spent waiting for the loader
  int64_t skipped = 0;      // undecodable files met
};

struct EvalStats {
  double loss = 0;
  ConfusionMatrix confusion;
};


struct TrainOptions {
  TrainConfig train;
  double learning_rate = 0;        // overrides train.learning_rate when > 0 (round schedule)
  int input_size = 64;
  PreprocessConfig preprocess;
  int loader_threads = 1;
  uint64_t seed = 1;
  const ModelState* proximal_anchor = nullptr;  // FedProx: the round's global model
  // In/out, optional: the optimizer state of this site's previous round, restored as
  // train.optimizer_state says and replaced by this call's when it succeeds (a failed call
  // leaves it as it was). nullptr = a fresh optimizer, nothing kept.
  OptimizerState* optimizer_state = nullptr;
  // Target prior of the logit adjustment (data/split.h LogitAdjustmentOffsets): the pooled
  // class distribution the coordinator sends; empty = balanced.
  std::vector<double> class_prior;
  ProgressFn progress;  // called after each batch (train/progress.h)
  // Optional: learning rate of each epoch (centralized schedules); else constant.
  std::function<double(int epoch)> epoch_lr;
  // Optional: called after each epoch with that epoch's stats; a non-OK Status stops training.
  std::function<Status(int epoch, const TrainStats&)> on_epoch;
};

Result<TrainStats> TrainLocal(DenseNet& model, const Dataset& data,
                              const std::vector<size_t>& indices, const TrainOptions& options);

Result<EvalStats> Evaluate(DenseNet& model, const Dataset& data, const std::vector<size_t>& indices,
                           int input_size, const PreprocessConfig& preprocess,
                           int loader_threads = 1, int batch_size = 64,
                           const ProgressFn& progress = {});

}  // namespace fedsmear
