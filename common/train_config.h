// The training task's settings: what a site trains with in one round (TrainConfig, sent in
// every TrainTask, common/wire/messages.h), each described once in Describe() below: its YAML
// key, help, range, plan rule and whether it travels (common/settings/setting.h). Kept apart
// from common/config.h so that the wire protocol does not depend on the rest of the
// application's configuration. Plain values (copy freely; not synchronised).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "common/settings/enum_names.h"
#include "common/settings/setting.h"

namespace fedsmear {

enum class Optimizer : uint8_t { kAdam, kSgd };
// What a site's optimizer keeps from one of its rounds to the next (train/optimizer_state.h).
enum class OptimizerStateMode : uint8_t { kFresh, kKeep, kKeepScale };
// The class prior the logit-adjusted loss calibrates toward.
enum class LogitPrior : uint8_t { kPooled, kBalanced };
// The latent magnitude a site gives a binary weight of a sign downlink that it holds no state for
// (latent_start) or whose sign the federation flipped (latent_flip): the downlink's epsilon, or
// the layer's Glorot-normal mean |w| (models/latent_reinit.h).
enum class FreshLatent : uint8_t { kEpsilon, kGlorot };

}  // namespace fedsmear

namespace fedsmear::settings {
template <>
struct EnumNames<Optimizer> {
  static constexpr std::pair<Optimizer, const char*> kAll[] = {{Optimizer::kAdam, "adam"},
                                                               {Optimizer::kSgd, "sgd"}};
};
template <>
struct EnumNames<OptimizerStateMode> {
  static constexpr std::pair<OptimizerStateMode, const char*> kAll[] = {
      {OptimizerStateMode::kFresh, "fresh"},
      {OptimizerStateMode::kKeep, "keep"},
      {OptimizerStateMode::kKeepScale, "keep_scale"}};
};
template <>
struct EnumNames<FreshLatent> {
  static constexpr std::pair<FreshLatent, const char*> kAll[] = {{FreshLatent::kEpsilon, "epsilon"},
                                                                 {FreshLatent::kGlorot, "glorot"}};
};
template <>
struct EnumNames<LogitPrior> {
  static constexpr std::pair<LogitPrior, const char*> kAll[] = {{LogitPrior::kPooled, "pooled"},
                                                                {LogitPrior::kBalanced, "balanced"}};
};
}  // namespace fedsmear::settings

namespace fedsmear {

// Training-time augmentation (data/augment.h); all off except flips and quarter turns.
struct AugmentConfig {
  bool hflip = true;
  bool vflip = true;
  bool rot90 = true;
  double rotate_deg = 0;
  double zoom = 0;
  double translate = 0;
  double brightness = 0;
  double contrast = 0;
  double hue = 0;
  double cutmix = 0;
};

template <class Self, class V>
settings::IfDescribes<Self, AugmentConfig> Describe(Self& a, V& v) {
  using settings::PlanRule;
  using settings::Spec;
  constexpr PlanRule kEq = PlanRule::kEqual;
  v(a.hflip, Spec("hflip", "random horizontal flips").Plan(kEq).Wire());
  v(a.vflip, Spec("vflip", "random vertical flips").Plan(kEq).Wire());
  v(a.rot90, Spec("rot90", "random multiples of 90 degrees (cells have no 'up')").Plan(kEq).Wire());
  v(a.rotate_deg, Spec("rotate_deg", "free rotation, uniform in [-x, x] degrees")
                      .Range(0, 180).Plan(kEq).Wire());
  v(a.zoom, Spec("zoom", "scale uniform in [1-x, 1+x]").Range(0, 0.9).Plan(kEq).Wire());
  v(a.translate, Spec("translate", "shift uniform in [-x, x] of the side")
                     .Range(0, 0.5).Plan(kEq).Wire());
  v(a.brightness, Spec("brightness", "additive, uniform in [-x, x] (pixel values in [0,1])")
                      .Range(0, 1).Plan(kEq).Wire());
  v(a.contrast, Spec("contrast", "multiplicative, uniform in [1-x, 1+x]")
                    .Range(0, 1).Plan(kEq).Wire());
  v(a.hue, Spec("hue", "hue shift, uniform in [-x, x] of the full circle")
               .Range(0, 0.5).Plan(kEq).Wire());
  v(a.cutmix, Spec("cutmix", "probability of CutMix per batch").Range(0, 1).Plan(kEq).Wire());
}

// What one site does in one round; the coordinator sends it with every train task. The
// initialisers are the defaults of centralized training (`fedsmear train`);
// FederatedTrainDefaults() gives a federated round's.
struct TrainConfig {
  Optimizer optimizer = Optimizer::kAdam;
  double learning_rate = 2e-3;
  double momentum = 0.9;
  double weight_decay = 0.0;
  int local_epochs = 1;
  int local_steps = 0;
  int batch_size = 32;
  bool class_weights = false;
  double bn_momentum = 0.1;
  double fedprox_mu = 0.0;
  OptimizerStateMode optimizer_state = OptimizerStateMode::kFresh;
  double logit_adjustment = 1.0;
  LogitPrior logit_adjustment_prior = LogitPrior::kPooled;
  AugmentConfig augment;
};

template <class Self, class V>
settings::IfDescribes<Self, TrainConfig> Describe(Self& t, V& v) {
  using settings::PlanRule;
  using settings::Spec;
  constexpr PlanRule kEq = PlanRule::kEqual;
  v(t.optimizer, Spec("optimizer", "local optimizer").Plan(kEq).Wire());
  v(t.learning_rate,
    Spec("learning_rate", "round 1's (coordinator) or the peak (train) rate; the coordinator "
                          "schedules it per round (plan: lr_max, lr_min)")
        .Positive().Plan(PlanRule::kDerived).Wire());
  v(t.momentum, Spec("momentum", "SGD momentum (sgd only)").Range(0, 1).Plan(kEq).Wire());
  v(t.weight_decay, Spec("weight_decay", "L2 weight decay").Range(0, 1).Plan(kEq).Wire());
  v(t.local_epochs, Spec("local_epochs", "full passes over the site's data per round")
                        .Range(1, 1000).Plan(PlanRule::kAtMost).Wire());
  v(t.local_steps,
    Spec("local_steps", "cap on the optimizer steps (batches) of one round, so every site does "
                        "the same work whatever its size (0 = local_epochs full passes)")
        .Range(0, 10000000).Plan(PlanRule::kCap).Absent("0").Wire());
  v(t.batch_size, Spec("batch_size", "images per optimizer step").Range(1, 4096).Plan(kEq).Wire());
  v(t.class_weights, Spec("class_weights", "inverse-frequency class weights in the loss")
                         .Plan(kEq).Wire());
  v(t.bn_momentum, Spec("bn_momentum", "batch-norm running-statistics momentum (PyTorch "
                                       "convention; Keras 0.9 = 0.1 here)")
                       .Range(0, 1).Plan(kEq).Wire());
  v(t.fedprox_mu, Spec("fedprox_mu", "FedProx proximal term (0 = plain local training)")
                      .Range(0, 100).Plan(kEq).Wire());
  v(t.optimizer_state,
    Spec("optimizer_state", "what a site's optimizer keeps between its rounds: fresh, keep "
                            "(Adam's moments, SGD's momentum) or keep_scale (Adam's second "
                            "moment only); kept at the site, never sent")
        .Plan(kEq).Absent("fresh").Wire());
  v(t.logit_adjustment,
    Spec("logit_adjustment", "tau of the logit-adjusted local loss (logits + tau * log local "
                             "prior, training only; 0 = plain cross-entropy)")
        .Range(0, 4).Plan(kEq).Wire());
  v(t.logit_adjustment_prior,
    Spec("logit_adjustment_prior", "the prior the adjusted loss calibrates toward: pooled (the "
                                   "sites' pooled class counts, sent with each task as its "
                                   "class_prior) or balanced")
        .Plan(kEq));
  v(t.augment, Spec("augment", "training-time augmentation").Plan(kEq).Wire());
}

// The default aggregation strategy and codecs: the compact 1-bit path (docs/accuracy.md).
// Names in the registries (coordinator/strategy_registry.h, models/codecs/), which check them.
inline constexpr char kDefaultStrategy[] = "fedvote";
inline constexpr char kDefaultCodecDown[] = "sign1+q8";
inline constexpr char kDefaultCodecUp[] = "sign1+q8";
// Latent magnitudes a site gives binary weights of a sign downlink (models/latent_reinit.h).
inline constexpr FreshLatent kDefaultLatentStart = FreshLatent::kGlorot;
inline constexpr FreshLatent kDefaultLatentFlip = FreshLatent::kEpsilon;
inline constexpr double kDefaultLatentEpsilon = 1e-3;

// A federated round's local work by default: at most this many optimizer steps (TrainConfig
// stays uncapped for centralized training, `fedsmear train`).
inline constexpr int kDefaultFederatedLocalSteps = 28;
// What a site's optimizer keeps between rounds in a federated run by default.
inline constexpr OptimizerStateMode kDefaultOptimizerState = OptimizerStateMode::kKeep;

// TrainConfig with the federated defaults above.
inline TrainConfig FederatedTrainDefaults() {
  TrainConfig t;
  t.local_steps = kDefaultFederatedLocalSteps;
  t.optimizer_state = kDefaultOptimizerState;
  return t;
}

}  // namespace fedsmear
