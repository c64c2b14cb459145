// Sample messages for the wire tests: every field set to a non-default, valid value.
// Header-only test helper; values, no state.
#pragma once

#include <string>

#include "common/wire/messages.h"

namespace fedsmear::wire::testing_samples {

inline std::string Blob(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) & 0xff);
  return s;
}

inline Message Wrap(Body body) {
  Message m;
  m.run_id = "run-42";
  m.body = std::move(body);
  return m;
}

inline std::vector<std::string> Classes() { return {"neutrophil", "lymphocyte", "monocyte"}; }

inline Message HelloMessage() {
  Hello h;
  h.site_id = "site-a";
  h.software_version = "0.1.0";
  h.class_names = Classes();
  h.class_counts = {10, 20, 30};
  h.num_train = 54;
  h.num_val = 6;
  Message m = Wrap(h);
  m.run_id.clear();  // before the Welcome
  return m;
}

inline Message WelcomeMessage() {
  Welcome w;
  w.accepted = true;
  w.reason = "welcome";
  w.run_id = "run-42";
  w.heartbeat_ms = 2500;
  w.plan = "{\"format\":\"fedsmear-plan/1\"}";
  w.plan_hash = std::string(64, 'e');
  return Wrap(w);
}

inline Message TrainTaskMessage() {
  TrainTask t;
  t.round = 7;
  t.model = {"sign1+q8", Blob(1000)};
  t.arch = "bdn28";
  t.num_classes = 3;
  t.input_size = 64;
  t.class_names = Classes();
  t.train.optimizer = Optimizer::kSgd;
  t.train.learning_rate = 0.0125;
  t.train.momentum = 0.8;
  t.train.weight_decay = 1e-4;
  t.train.local_epochs = 3;
  t.train.local_steps = 40;
  t.train.batch_size = 16;
  t.train.class_weights = true;
  t.train.bn_momentum = 0.2;
  t.train.fedprox_mu = 0.01;
  t.train.optimizer_state = OptimizerStateMode::kKeepScale;
  t.train.augment.hflip = false;
  t.train.augment.vflip = true;
  t.train.augment.rot90 = true;
  t.train.augment.rotate_deg = 15;
  t.train.augment.zoom = 0.1;
  t.train.augment.translate = 0.05;
  t.train.augment.brightness = 0.2;
  t.train.augment.contrast = 0.3;
  t.train.augment.hue = 0.02;
  t.train.augment.cutmix = 0.5;
  t.deadline_unix_ms = 1700000000123;
  t.task_id = 99;
  t.codec_up = "q8_delta+f16";
  t.latent_start = FreshLatent::kEpsilon;
  t.latent_epsilon = 0.002;
  t.latent_flip = FreshLatent::kGlorot;
  t.secure_aggregation = true;
  return Wrap(t);
}

inline Message UpdateMessage() {
  Update u;
  u.round = 7;
  u.task_id = 99;
  u.num_samples = 54;
  u.update = {"sign1_scaled+f16", Blob(4096)};
  u.metrics = {0.5, 0.75, 0.6, 0.7, 6, 12.5};
  return Wrap(u);
}

inline Message EvaluateTaskMessage() {
  EvaluateTask e;
  e.round = 7;
  e.task_id = 100;
  e.model = {"f32+f16", Blob(333)};
  e.arch = "bdn37";
  e.num_classes = 3;
  e.input_size = 96;
  e.class_names = Classes();
  e.deadline_unix_ms = 1700000000999;
  e.bn_calibration_images = 512;
  e.bn_calibration_batch = 32;
  return Wrap(e);
}

inline Message EvaluateResultMessage() {
  EvaluateResult r;
  r.round = 7;
  r.task_id = 100;
  r.loss = 0.9;
  r.accuracy = 0.6;
  r.num_samples = 10;
  r.bn_statistics = {"f32", Blob(99)};
  r.bn_images = 512;
  return Wrap(r);
}

inline Message HeartbeatMessage() { return Wrap(Heartbeat{17, 1700000000555, "a1b2c3"}); }
inline Message ErrorMessage() { return Wrap(Error{ErrorCode::kWrongRun, "run mismatch"}); }
inline Message RefusalMessage() {
  return Wrap(Refusal{99, 7, "too few samples of class monocyte"});
}
inline Message GoodbyeMessage() { return Wrap(Goodbye{"run finished"}); }

}  // namespace fedsmear::wire::testing_samples
