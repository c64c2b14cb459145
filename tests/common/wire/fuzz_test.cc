// Issue 16: mutation fuzzing of the wire decoder (what both sides read from the network),
// seeded with a real encoding of every message type (tests/fuzz_mutator.h; longer runs:
// scripts/fuzz).
#include <gtest/gtest.h>

#include "common/wire/messages.h"
#include "tests/common/wire/sample_messages.h"
#include "tests/fuzz_mutator.h"

namespace fedsmear::wire {
namespace {

namespace s = testing_samples;

TEST(WireFuzz, DecoderSurvivesMutatedMessages) {
  std::vector<std::string> seeds;
  for (const Message& m :
       {s::HelloMessage(), s::WelcomeMessage(), s::TrainTaskMessage(), s::UpdateMessage(),
        s::EvaluateTaskMessage(), s::EvaluateResultMessage(), s::HeartbeatMessage(),
        s::ErrorMessage(), s::RefusalMessage(), s::GoodbyeMessage()}) {
    seeds.push_back(Encode(m));
  }
  SecAggSetup setup;
  setup.round = 3;
  setup.task_id = 17;
  for (uint32_t i = 1; i <= 3; ++i) {
    setup.sites.push_back({"site-" + std::to_string(i), i, std::string(32, 'k'), 0, 10});
  }
  setup.threshold = 2;
  setup.neighbours = 2;
  setup.graph_seed = std::string(32, 'g');
  setup.model_sha256 = std::string(32, 'm');
  setup.clip = 4;
  setup.total_weight = 30;
  setup.weight_cap = 10;
  setup.vector_length = 10;
  setup.stat_clip = 100;
  seeds.push_back(Encode(s::Wrap(setup)));
  seeds.push_back(Encode(s::Wrap(
      SecAggUnmaskRequest{3, 17, {1, 2}, {3}, {{1, std::string(64, 's')}, {2, std::string(64, 't')}}})));
  seeds.push_back(Encode(s::Wrap(SecAggConsistencyCheck{3, 17, {1, 2, 4}})));
  seeds.push_back(Encode(s::Wrap(SecAggConsistencySignature{3, 17, std::string(64, 'x')})));
  DecodeLimits limits;
  limits.max_message_bytes = 1 << 20;
  const int ok = testing::FuzzDecoder(seeds, [&](const std::string& bytes) {
    Result<Message> m = Decode(bytes, limits);
    if (m.ok()) (void)Encode(*m);  // whatever decodes must encode again
    return m.ok();
  });
  EXPECT_GE(ok, static_cast<int>(seeds.size()));  // at least the seeds themselves
}

}  // namespace
}  // namespace fedsmear::wire
