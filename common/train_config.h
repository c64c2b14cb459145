// The training task's settings: what a site trains with in one round (TrainConfig, sent in
// every TrainTask, common/wire/messages.h) and the defaults of how it answers. Part of the
// typed configuration (common/config.h reads them from YAML), kept apart so that the wire
// protocol does not depend on the rest of the application's configuration.
// Plain values (copy freely; not synchronised).
#pragma once

#include <string>

namespace fedsmear {

// Training-time augmentation; all off except flips and quarter turns (data/augment.h).
struct AugmentConfig {
  bool hflip = true;
  bool vflip = true;
  bool rot90 = true;         // random multiples of 90 degrees (cells have no "up")
  double rotate_deg = 0;     // free rotation, uniform in [-x, x]
  double zoom = 0;           // scale uniform in [1-x, 1+x]
  double translate = 0;      // shift uniform in [-x, x] of the side
  double brightness = 0;     // additive, uniform in [-x, x] (pixel values in [0,1])
  double contrast = 0;       // multiplicative, uniform in [1-x, 1+x]
  double hue = 0;            // hue shift, uniform in [-x, x] of the full circle
  double cutmix = 0;         // probability of CutMix per batch
};

// What one site does in one round; the coordinator sends it with every train task.
struct TrainConfig {
  std::string optimizer = "adam";  // adam | sgd
  double learning_rate = 2e-3;    // round 1 (coordinator) / peak (train); scheduled per round
  double momentum = 0.9;           // sgd only
  double weight_decay = 0.0;
  int local_epochs = 1;
  // Cap on the optimizer steps (batches) of one round; 0 = local_epochs full passes. With a cap
  // every site does the same work per round whatever its size, and rounds can be shorter than
  // an epoch (less client drift under label skew, FedAvg's "local steps").
  int local_steps = 0;
  int batch_size = 32;
  bool class_weights = false;      // inverse-frequency weights in the loss
  double bn_momentum = 0.1;        // PyTorch convention (Keras 0.9)
  double fedprox_mu = 0.0;         // FedProx proximal term; 0 = plain local training
  // What a site's optimizer keeps from one round to its next (train/optimizer_state.h):
  // "fresh" (a new optimizer every round, as FedAvg is usually run), "keep" (Adam's moments or
  // SGD's momentum carry over) or "keep_scale" (only Adam's second moment and step count: the
  // per-weight gradient scale, not the site's own direction). Costs no bytes on the wire.
  std::string optimizer_state = "fresh";
  // Label-skew calibration of the local loss (logit adjustment, Menon et al. 2021; FedLC):
  // logits + tau * log(local class prior) during training only, so a site that has few or no
  // images of a class does not push that class's scores down. 0 = plain cross-entropy.
  double logit_adjustment = 1.0;
  // The prior the adjusted loss calibrates toward: "pooled" (the coordinator sends the pooled
  // class distribution of the sites' class counts with each task, TrainTask.class_prior, so the
  // model learns what centralized training on the union would; balanced when no site shares its
  // counts) or "balanced" (a class-balanced model). Coordinator-side: not a TrainConfig field
  // on the wire; the task's class_prior carries it.
  std::string logit_adjustment_prior = "pooled";
  AugmentConfig augment;
};

// The default aggregation strategy and codecs: the compact 1-bit path (docs/accuracy.md has the
// real-data measurements behind the choice).
// Defined in config.cc, next to the loader, so that a new measurement changes one file.
extern const char kDefaultStrategy[];
extern const char kDefaultCodecDown[];
extern const char kDefaultCodecUp[];
// Latent magnitude a site gives binary weights it holds no state for (sign1 downlinks).
extern const char kDefaultLatentStart[];
// Latent magnitude a site gives binary weights whose sign the federation flipped (sign1
// downlinks; a task from a coordinator that predates the setting means "epsilon").
extern const char kDefaultLatentFlip[];
inline constexpr double kDefaultLatentEpsilon = 1e-3;

// A federated round's local work by default: at most this many optimizer steps (TrainConfig
// stays uncapped for centralized training, `fedsmear train`). docs/accuracy.md: 30 rounds of
// 28 steps at 4 sites are the centralized reference's 10 epochs of compute on wbc-pbc.
inline constexpr int kDefaultFederatedLocalSteps = 28;
// What a site's optimizer keeps between rounds by default (TrainConfig.optimizer_state; a bare
// TrainConfig, and a task from a coordinator that predates the setting, mean "fresh").
extern const char kDefaultOptimizerState[];
// TrainConfig with the federated defaults above (config.cc).
TrainConfig FederatedTrainDefaults();

}  // namespace fedsmear
