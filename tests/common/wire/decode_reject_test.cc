// Decode() must turn every malformed, hostile or inconsistent input into a Status.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "common/wire/fedsmear.capnp.h"
#include "common/wire/messages.h"
#include "tests/common/wire/sample_messages.h"

namespace fedsmear::wire {
namespace {

namespace s = testing_samples;

StatusCode CodeOf(std::string_view bytes, const DecodeLimits& limits = {}) {
  auto r = Decode(bytes, limits);
  return r.ok() ? StatusCode::kOk : r.status().code();
}

template <typename T, typename Fn>
StatusCode CodeAfter(Message m, Fn mutate) {
  mutate(std::get<T>(m.body));
  return CodeOf(Encode(m));
}

// The sample train task, encoded, then changed at the Cap'n Proto level: what a peer of another
// build (an older one, or a hostile one) may send, beyond what the typed structs can hold.
template <typename Fn>
std::string RawTrainTask(Fn change) {
  const std::string bytes = Encode(s::TrainTaskMessage());
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), words.size() * sizeof(capnp::word));
  capnp::FlatArrayMessageReader reader(words);
  capnp::MallocMessageBuilder builder;
  builder.setRoot(reader.getRoot<proto::Envelope>());
  change(builder.getRoot<proto::Envelope>().getBody().getTrainTask());
  auto flat = capnp::messageToFlatArray(builder);
  return std::string(reinterpret_cast<const char*>(flat.begin()),
                     flat.size() * sizeof(capnp::word));
}
using RawTask = proto::TrainTask::Builder;

TEST(WireReject, EmptyOddSizedAndTrailingBytes) {
  EXPECT_EQ(CodeOf(""), StatusCode::kCorrupt);
  EXPECT_EQ(CodeOf("1234567"), StatusCode::kCorrupt);
  const std::string good = Encode(s::HeartbeatMessage());
  EXPECT_EQ(CodeOf(good + "x"), StatusCode::kCorrupt);
  EXPECT_EQ(CodeOf(good + std::string(8, '\0')), StatusCode::kCorrupt);  // trailing word
}

TEST(WireReject, RandomGarbage) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 2000; ++i) {
    std::string junk((rng() % 64 + 1) * 8, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    const StatusCode code = CodeOf(junk);
    EXPECT_TRUE(code == StatusCode::kCorrupt || code == StatusCode::kFailedPrecondition)
        << "iteration " << i << ": " << StatusCodeName(code);
  }
}

TEST(WireReject, BitFlipsNeverCrash) {
  const std::string good = Encode(s::TrainTaskMessage());
  std::mt19937 rng(7);
  int rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string bad = good;
    for (int k = 0; k < 3; ++k) bad[rng() % bad.size()] ^= static_cast<char>(1u << (rng() % 8));
    rejected += !Decode(bad).ok();  // may still be valid (e.g. a flipped blob byte); must not crash
  }
  EXPECT_GT(rejected, 0);
}

TEST(WireReject, Truncated) {
  const std::string good = Encode(s::UpdateMessage());
  for (size_t len = 8; len < good.size(); len += 8) {
    EXPECT_EQ(CodeOf(good.substr(0, len)), StatusCode::kCorrupt) << "length " << len;
  }
}

TEST(WireReject, OversizedAgainstLimit) {
  Message m = s::TrainTaskMessage();
  std::get<TrainTask>(m.body).model.data = s::Blob(1 << 20);
  const std::string bytes = Encode(m);
  DecodeLimits limits;
  limits.max_message_bytes = 64 * 1024;
  EXPECT_EQ(CodeOf(bytes, limits), StatusCode::kResourceExhausted);
  limits.max_message_bytes = bytes.size();
  EXPECT_EQ(CodeOf(bytes, limits), StatusCode::kOk);
}

TEST(WireReject, WrongProtocolVersion) {
  Message m = s::HeartbeatMessage();
  m.protocol_version = kProtocolVersion + 1;
  auto r = Decode(Encode(m));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("protocol version " + std::to_string(kProtocolVersion + 1)),
            std::string::npos)
      << r.status().message();
}

TEST(WireReject, OutOfRangeEnums) {
  EXPECT_EQ(CodeAfter<Error>(s::ErrorMessage(), [](Error& e) { e.code = ErrorCode{42}; }),
            StatusCode::kCorrupt);
}

// A blob's codec is a registry name: empty or oversized names are refused before use (the
// receiver parses the rest with models/codec.h or models/packed_model.h).
TEST(WireReject, BlobCodecNames) {
  EXPECT_EQ(CodeAfter<TrainTask>(s::TrainTaskMessage(), [](TrainTask& t) { t.model.codec = ""; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<Update>(s::UpdateMessage(),
                              [](Update& u) { u.update.codec.assign(65, 'q'); }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<EvaluateTask>(s::EvaluateTaskMessage(),
                                    [](EvaluateTask& e) { e.model.codec.clear(); }),
            StatusCode::kCorrupt);
}

// Batch-norm statistics come with their image count, in f32; a calibration request names a
// usable batch size.
TEST(WireReject, BatchNormStatistics) {
  EXPECT_EQ(CodeAfter<EvaluateResult>(s::EvaluateResultMessage(),
                                      [](EvaluateResult& r) { r.bn_images = 0; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<EvaluateResult>(s::EvaluateResultMessage(),
                                      [](EvaluateResult& r) { r.bn_statistics = {}; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<EvaluateResult>(s::EvaluateResultMessage(),
                                      [](EvaluateResult& r) { r.bn_statistics.codec = "q8"; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<EvaluateResult>(s::EvaluateResultMessage(),
                                      [](EvaluateResult& r) {
                                        r.bn_statistics = {};
                                        r.bn_images = 0;
                                      }),
            StatusCode::kOk);
  EXPECT_EQ(CodeAfter<EvaluateTask>(s::EvaluateTaskMessage(),
                                    [](EvaluateTask& e) { e.bn_calibration_batch = 1; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<EvaluateTask>(s::EvaluateTaskMessage(),
                                    [](EvaluateTask& e) { e.bn_calibration_images = 2000000; }),
            StatusCode::kCorrupt);
}

TEST(WireReject, UnknownUnionTag) {
  std::string bytes = Encode(s::GoodbyeMessage());
  // Single segment: 8-byte segment table, 8-byte root pointer, then the Envelope's data section
  // with protocolVersion (bytes 16-17) and the body discriminant (bytes 18-19).
  ASSERT_EQ(static_cast<uint8_t>(bytes[16]), kProtocolVersion);
  ASSERT_EQ(static_cast<uint8_t>(bytes[18]), 9);  // goodbye is the tenth member
  bytes[18] = 77;
  auto r = Decode(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.status().message().find("unknown message type 77"), std::string::npos);
}

TEST(WireReject, InconsistentLists) {
  EXPECT_EQ(CodeAfter<Hello>(s::HelloMessage(), [](Hello& h) { h.class_counts.pop_back(); }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<TrainTask>(s::TrainTaskMessage(),
                                 [](TrainTask& t) { t.class_names.push_back("extra"); }),
            StatusCode::kCorrupt);
}

// The typed TrainTask fields are checked before use: a task without an uplink codec or with an
// unknown latent start never reaches the site's trainer.
TEST(WireReject, TrainTaskSettings) {
  EXPECT_EQ(CodeAfter<TrainTask>(s::TrainTaskMessage(), [](TrainTask& t) { t.codec_up.clear(); }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<TrainTask>(s::TrainTaskMessage(),
                                 [](TrainTask& t) { t.codec_up.assign(65, 'x'); }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeOf(RawTrainTask([](RawTask t) { t.setLatentStart("random"); })),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeOf(RawTrainTask([](RawTask t) { t.setLatentStart(""); })), StatusCode::kCorrupt);
  EXPECT_EQ(CodeOf(RawTrainTask([](RawTask t) { t.setLatentFlip("mirror"); })),
            StatusCode::kCorrupt);
  for (double eps : {0.0, -1e-3, 2.0, std::nan("")}) {
    EXPECT_EQ(CodeAfter<TrainTask>(s::TrainTaskMessage(),
                                   [eps](TrainTask& t) { t.latent_epsilon = eps; }),
              StatusCode::kCorrupt)
        << eps;
  }
  // The pooled class prior: empty, or one share per class, finite, >= 0, summing to 1.
  const std::vector<std::vector<double>> bad_priors = {
      {0.5, 0.5}, {0.5, 0.25, 0.25, 0}, {0.5, 0.6, -0.1}, {0.5, 0.25, 0.2},
      {0.5, 0.5, std::nan("")}, {1.0, 0.0, std::numeric_limits<double>::infinity()}};
  for (const auto& prior : bad_priors) {
    EXPECT_EQ(CodeAfter<TrainTask>(s::TrainTaskMessage(),
                                   [&](TrainTask& t) { t.class_prior = prior; }),
              StatusCode::kCorrupt)
        << testing::PrintToString(prior);
  }
  Message ok = s::TrainTaskMessage();
  std::get<TrainTask>(ok.body).class_prior = {0.5, 0.5, 0.0};
  auto back = Decode(Encode(ok));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(std::get<TrainTask>(back->body).class_prior, (std::vector<double>{0.5, 0.5, 0.0}));
  // A coordinator from before train.optimizer_state sends no text: a fresh optimizer.
  auto older = Decode(RawTrainTask([](RawTask t) { t.getTrain().disownOptimizerState(); }));
  ASSERT_TRUE(older.ok()) << older.status();
  EXPECT_EQ(std::get<TrainTask>(older->body).train.optimizer_state, OptimizerStateMode::kFresh);
  // ... and one from before latent_flip sends none either: flipped weights restart at epsilon.
  auto no_flip_back = Decode(RawTrainTask([](RawTask t) { t.disownLatentFlip(); }));
  ASSERT_TRUE(no_flip_back.ok()) << no_flip_back.status();
  EXPECT_EQ(std::get<TrainTask>(no_flip_back->body).latent_flip, FreshLatent::kEpsilon);
}

TEST(WireReject, ListLengthLimits) {
  Message m = s::HelloMessage();
  auto& h = std::get<Hello>(m.body);
  h.class_names.assign(20, "c");
  h.class_counts.assign(20, 1);
  DecodeLimits limits;
  limits.max_classes = 10;
  auto r = Decode(Encode(m), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.status().message().find("class_names has 20 entries"), std::string::npos)
      << r.status().message();
  limits.max_classes = 20;
  EXPECT_TRUE(Decode(Encode(m), limits).ok());
}

TEST(WireReject, NumericRanges) {
  const Message task = s::TrainTaskMessage();
  EXPECT_EQ(CodeAfter<TrainTask>(task, [](TrainTask& t) { t.train.batch_size = 0; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<TrainTask>(task, [](TrainTask& t) { t.train.local_epochs = 0; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<TrainTask>(task, [](TrainTask& t) { t.train.learning_rate = NAN; }),
            StatusCode::kCorrupt);
  // Choices travel as names; one outside the enum's table is refused.
  EXPECT_EQ(CodeOf(RawTrainTask([](RawTask t) { t.getTrain().setOptimizer("rmsprop"); })),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeOf(RawTrainTask([](RawTask t) { t.getTrain().setOptimizerState("all"); })),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<TrainTask>(task, [](TrainTask& t) { t.train.augment.cutmix = 1.5; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<TrainTask>(task, [](TrainTask& t) { t.num_classes = 0; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<TrainTask>(task, [](TrainTask& t) { t.input_size = 0; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<TrainTask>(task, [](TrainTask& t) { t.arch.clear(); }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<Update>(s::UpdateMessage(), [](Update& u) { u.num_samples = 0; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<Update>(s::UpdateMessage(),
                              [](Update& u) { u.metrics.train_accuracy = 1.5; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<Hello>(s::HelloMessage(), [](Hello& h) { h.site_id = "../x"; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<Welcome>(s::WelcomeMessage(), [](Welcome& w) { w.heartbeat_ms = 0; }),
            StatusCode::kCorrupt);
  // A training plan travels with its SHA-256 (64 lowercase hex digits), and only with it.
  EXPECT_EQ(CodeAfter<Welcome>(s::WelcomeMessage(), [](Welcome& w) { w.plan_hash = "ABC"; }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<Welcome>(s::WelcomeMessage(), [](Welcome& w) { w.plan_hash.clear(); }),
            StatusCode::kCorrupt);
  EXPECT_EQ(CodeAfter<Welcome>(s::WelcomeMessage(),
                               [](Welcome& w) { w.plan.assign(65 * 1024, 'x'); }),
            StatusCode::kCorrupt);
}

TEST(WireReject, OverlongText) {
  Message m = s::RefusalMessage();
  std::get<Refusal>(m.body).reason.assign(100, 'r');
  DecodeLimits limits;
  limits.max_text_bytes = 64;
  EXPECT_EQ(CodeOf(Encode(m), limits), StatusCode::kCorrupt);
}

TEST(WireValidate, ValidateMessageBeforeSending) {
  EXPECT_TRUE(ValidateMessage(s::TrainTaskMessage()).ok());
  Message m = s::TrainTaskMessage();
  std::get<TrainTask>(m.body).train.batch_size = -1;
  EXPECT_FALSE(ValidateMessage(m).ok());
}

}  // namespace
}  // namespace fedsmear::wire
