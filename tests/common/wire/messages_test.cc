// Round trips of every message type through Encode/Decode.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "common/config.h"
#include "common/wire/messages.h"
#include "tests/common/wire/sample_messages.h"

namespace fedsmear::wire {
namespace {

template <typename T>
T RoundTrip(const Message& m) {
  const std::string bytes = Encode(m);
  EXPECT_EQ(bytes.size() % 8, 0u);
  auto decoded = Decode(bytes);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  if (!decoded.ok()) return T{};
  EXPECT_EQ(decoded->protocol_version, kProtocolVersion);
  EXPECT_EQ(decoded->run_id, m.run_id);
  // Every field is set to a non-default value, so a dropped field changes the re-encoding.
  EXPECT_EQ(Encode(*decoded), bytes) << "re-encoding differs for " << BodyName(m.body);
  EXPECT_TRUE(std::holds_alternative<T>(decoded->body));
  return std::get<T>(std::move(decoded).value().body);
}

TEST(WireRoundTrip, Hello) {
  auto h = RoundTrip<Hello>(testing_samples::HelloMessage());
  EXPECT_EQ(h.site_id, "site-a");
  EXPECT_EQ(h.class_names, (std::vector<std::string>{"neutrophil", "lymphocyte", "monocyte"}));
  EXPECT_EQ(h.class_counts, (std::vector<uint64_t>{10, 20, 30}));
  EXPECT_EQ(h.num_train, 54u);
  EXPECT_EQ(h.num_val, 6u);
}

TEST(WireRoundTrip, HelloWithoutCounts) {
  Message m = testing_samples::HelloMessage();
  std::get<Hello>(m.body).class_counts.clear();
  auto h = RoundTrip<Hello>(m);
  EXPECT_TRUE(h.class_counts.empty());
}

TEST(WireRoundTrip, Welcome) {
  auto w = RoundTrip<Welcome>(testing_samples::WelcomeMessage());
  EXPECT_TRUE(w.accepted);
  EXPECT_EQ(w.run_id, "run-42");
  EXPECT_EQ(w.heartbeat_ms, 2500u);
  EXPECT_EQ(w.plan, "{\"format\":\"fedsmear-plan/1\"}");
  EXPECT_EQ(w.plan_hash, std::string(64, 'e'));
}

TEST(WireRoundTrip, TrainTaskKeepsEveryTrainConfigField) {
  auto t = RoundTrip<TrainTask>(testing_samples::TrainTaskMessage());
  EXPECT_EQ(t.round, 7u);
  EXPECT_EQ(t.task_id, 99u);
  EXPECT_EQ(t.model.codec, "sign1+q8");
  EXPECT_EQ(t.model.data, testing_samples::Blob(1000));
  EXPECT_EQ(t.arch, "bdn28");
  EXPECT_EQ(t.num_classes, 3u);
  EXPECT_EQ(t.input_size, 64u);
  EXPECT_EQ(t.deadline_unix_ms, 1700000000123);
  EXPECT_EQ(t.train.optimizer, Optimizer::kSgd);
  EXPECT_DOUBLE_EQ(t.train.learning_rate, 0.0125);
  EXPECT_DOUBLE_EQ(t.train.momentum, 0.8);
  EXPECT_DOUBLE_EQ(t.train.weight_decay, 1e-4);
  EXPECT_EQ(t.train.local_epochs, 3);
  EXPECT_EQ(t.train.local_steps, 40);
  EXPECT_EQ(t.train.batch_size, 16);
  EXPECT_TRUE(t.train.class_weights);
  EXPECT_DOUBLE_EQ(t.train.bn_momentum, 0.2);
  EXPECT_DOUBLE_EQ(t.train.fedprox_mu, 0.01);
  EXPECT_EQ(t.train.optimizer_state, OptimizerStateMode::kKeepScale);
  EXPECT_FALSE(t.train.augment.hflip);
  EXPECT_TRUE(t.train.augment.vflip);
  EXPECT_TRUE(t.train.augment.rot90);
  EXPECT_DOUBLE_EQ(t.train.augment.rotate_deg, 15);
  EXPECT_DOUBLE_EQ(t.train.augment.zoom, 0.1);
  EXPECT_DOUBLE_EQ(t.train.augment.translate, 0.05);
  EXPECT_DOUBLE_EQ(t.train.augment.brightness, 0.2);
  EXPECT_DOUBLE_EQ(t.train.augment.contrast, 0.3);
  EXPECT_DOUBLE_EQ(t.train.augment.hue, 0.02);
  EXPECT_DOUBLE_EQ(t.train.augment.cutmix, 0.5);
  EXPECT_EQ(t.codec_up, "q8_delta+f16");
  EXPECT_EQ(t.latent_start, FreshLatent::kEpsilon);
  EXPECT_DOUBLE_EQ(t.latent_epsilon, 0.002);
  EXPECT_EQ(t.latent_flip, FreshLatent::kGlorot);
  EXPECT_TRUE(t.secure_aggregation);
  // The C++ defaults are the coordinator config's: one source (common/config.h).
  TrainTask fresh;
  const CoordinatorConfig defaults;
  EXPECT_EQ(fresh.codec_up, defaults.codec_up);
  EXPECT_EQ(fresh.latent_start, defaults.latent_start);
  EXPECT_EQ(fresh.latent_epsilon, defaults.latent_epsilon);
  EXPECT_EQ(fresh.latent_flip, defaults.latent_flip);
  EXPECT_FALSE(fresh.secure_aggregation);
}

TEST(WireRoundTrip, UpdateWithNanValidationLoss) {
  Message m = testing_samples::UpdateMessage();
  std::get<Update>(m.body).metrics.val_loss = std::nan("");
  const std::string bytes = Encode(m);
  auto decoded = Decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const auto& u = std::get<Update>(decoded->body);
  EXPECT_EQ(u.num_samples, 54u);
  EXPECT_EQ(u.update.codec, "sign1_scaled+f16");
  EXPECT_EQ(u.update.data, testing_samples::Blob(4096));
  EXPECT_TRUE(std::isnan(u.metrics.val_loss));
  EXPECT_DOUBLE_EQ(u.metrics.train_accuracy, 0.75);
  EXPECT_DOUBLE_EQ(u.metrics.train_seconds, 12.5);
}

TEST(WireRoundTrip, Update) { RoundTrip<Update>(testing_samples::UpdateMessage()); }

TEST(WireRoundTrip, EvaluateTask) {
  auto e = RoundTrip<EvaluateTask>(testing_samples::EvaluateTaskMessage());
  EXPECT_EQ(e.model.codec, "f32+f16");
  EXPECT_EQ(e.class_names.size(), 3u);
  EXPECT_EQ(e.bn_calibration_images, 512u);
  EXPECT_EQ(e.bn_calibration_batch, 32u);
}

TEST(WireRoundTrip, EvaluateResult) {
  auto r = RoundTrip<EvaluateResult>(testing_samples::EvaluateResultMessage());
  EXPECT_DOUBLE_EQ(r.accuracy, 0.6);
  EXPECT_EQ(r.num_samples, 10u);
  EXPECT_EQ(r.bn_statistics.codec, "f32");
  EXPECT_EQ(r.bn_statistics.data.size(), 99u);
  EXPECT_EQ(r.bn_images, 512u);
}

TEST(WireRoundTrip, HeartbeatErrorRefusalGoodbye) {
  const Heartbeat beat = RoundTrip<Heartbeat>(testing_samples::HeartbeatMessage());
  EXPECT_EQ(beat.sequence, 17u);
  EXPECT_EQ(beat.pending_plan, "a1b2c3");
  auto e = RoundTrip<Error>(testing_samples::ErrorMessage());
  EXPECT_EQ(e.code, ErrorCode::kWrongRun);
  EXPECT_EQ(e.message, "run mismatch");
  auto r = RoundTrip<Refusal>(testing_samples::RefusalMessage());
  EXPECT_EQ(r.task_id, 99u);
  EXPECT_EQ(r.reason, "too few samples of class monocyte");
  EXPECT_EQ(RoundTrip<Goodbye>(testing_samples::GoodbyeMessage()).reason, "run finished");
}

TEST(WireRoundTrip, LargeModelBlob) {
  Message m = testing_samples::TrainTaskMessage();
  std::get<TrainTask>(m.body).model.data = testing_samples::Blob(20 << 20);  // 20 MiB
  const std::string bytes = Encode(m);
  auto decoded = Decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(std::get<TrainTask>(decoded->body).model.data.size(), size_t{20} << 20);
}

TEST(WireRoundTrip, UnalignedInputIsCopied) {
  const std::string bytes = Encode(testing_samples::UpdateMessage());
  std::string buffer(bytes.size() + 1, '\0');
  std::memcpy(buffer.data() + 1, bytes.data(), bytes.size());
  auto decoded = Decode(std::string_view(buffer).substr(1));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(std::get<Update>(decoded->body).update.data, testing_samples::Blob(4096));
}

TEST(WireNames, BodyAndErrorNames) {
  EXPECT_STREQ(BodyName(testing_samples::RefusalMessage().body), "refusal");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kProtocolVersion), "protocolVersion");
}

TEST(WireNames, SiteIds) {
  EXPECT_TRUE(IsValidSiteId("site-a"));
  EXPECT_TRUE(IsValidSiteId("Hospital_3.lab"));
  EXPECT_FALSE(IsValidSiteId(""));
  EXPECT_FALSE(IsValidSiteId("-x"));
  EXPECT_FALSE(IsValidSiteId("a b"));
  EXPECT_FALSE(IsValidSiteId("../etc"));
  EXPECT_FALSE(IsValidSiteId(std::string(129, 'a')));
}

}  // namespace
}  // namespace fedsmear::wire
