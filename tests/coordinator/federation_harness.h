// Test harness for end-to-end federated runs in one process: a Coordinator and Site daemons on
// threads, talking CurveZMQ over loopback, plus scripted fake sites that misbehave. Shared by
// federation_test.cc and secure_round_test.cc (header-only test helper, one fixture class).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "client/site.h"
#include "common/file_util.h"
#include "common/net/endpoint_config.h"
#include "common/net/keys.h"
#include "coordinator/server.h"
#include "coordinator/strategies.h"
#include "coordinator/strategy_registry.h"
#include "data/partition.h"
#include "data/synth.h"
#include "models/codec.h"
#include "models/packed_model.h"
#include "secagg/crypto.h"
#include "secagg/site_secagg.h"

namespace fedsmear::testing_federation {

namespace fs = std::filesystem;

// Training images a fake site claims in its hello (and its weight in secure setups).
inline constexpr uint64_t kFakeImages = 50;
using std::chrono::milliseconds;

// kHugeWeight: claims 2^60 images (hello and update) and sends a model of 1000s.
// kFloodHellos: sends 200,000 hellos on one connection and never reads. kHelloAndVanish: says
// hello and closes its connection at once, over and over.
enum class Fake {
  kVanish,
  kSilentButAlive,
  kStaleRound,
  kNanUpdate,
  kVanishAfterSharing,
  kHugeWeight,
  kFloodHellos,
  kHelloAndVanish,
  kSpoilSecureSum,  // runs every SecAgg+ stage correctly, masking half-ring words as its input
};

// A fresh Ed25519 signing key pair as `fedsmear keygen` writes it.
inline SigningKeyHex NewSigningKey() {
  auto seed = secagg::RandomSecret32();
  auto pair = secagg::Ed25519KeyPair::FromPrivate(*seed);
  const auto& pub = pair->public_key();
  return {HexEncode(std::string_view(reinterpret_cast<const char*>(pub.data()), pub.size())),
          HexEncode(std::string_view(reinterpret_cast<const char*>(seed->data()), seed->size()))};
}

class FederationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("fedsmear_federation_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    SynthOptions s;
    s.task = "rbc";
    s.per_class = 36;
    s.size = 64;
    ASSERT_TRUE(WriteSynthDataset(s, (root_ / "train").string()).ok());
    s.per_class = 12;
    s.seed = 99;
    ASSERT_TRUE(WriteSynthDataset(s, (root_ / "holdout").string()).ok());
    auto part = PartitionRoots({(root_ / "train").string()}, SynthClassNames("rbc"), 3,
                               PartitionScheme{}, 1);
    ASSERT_TRUE(part.ok());
    ASSERT_TRUE(WritePartition(*part, (root_ / "sites").string()).ok());
    coordinator_keys_ = GenerateKeyPair();
    ASSERT_TRUE(
        WriteKeyPairFiles(coordinator_keys_, (root_ / "keys").string(), "coordinator", true).ok());
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  void SetUp() override {
    run_dir_ = root_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(run_dir_);
  }

  // Registers a site key in the allowlist and returns the site's config.
  ClientConfig SiteConfig(const std::string& id, int part) {
    KeyPair kp = GenerateKeyPair();
    EXPECT_TRUE(WriteKeyPairFiles(kp, (root_ / "keys").string(), id, true).ok());
    SigningKeyHex sign = NewSigningKey();
    EXPECT_TRUE(WriteSigningKeyFiles(sign, (root_ / "keys").string(), id, true).ok());
    allowed_ += id + " " + kp.public_key + " " + sign.public_key + "\n";
    ClientConfig c;
    c.site_id = id;
    c.secret_key_file = (root_ / "keys" / (id + ".key")).string();
    c.signing_key_file = (root_ / "keys" / (id + ".sign.key")).string();
    c.coordinator_public_key_file = (root_ / "keys" / "coordinator.pub").string();
    c.data.manifest = (root_ / "sites" / ("site-" + std::to_string(part) + ".csv")).string();
    c.data.val_fraction = 0.15;
    c.threads = 1;
    c.heartbeat_s = 0.3;
    c.policy.require_plan_approval = false;  // governance_test.cc approves plans explicitly
    // Tests run plain and secure rounds without a roster unless they set one (malicious_test.cc).
    c.policy.require_secure_aggregation = false;
    c.policy.require_secagg_roster = false;
    return c;
  }

  CoordinatorConfig MakeConfig(int rounds, int min_sites, int start_sites) {
    EXPECT_TRUE(WriteFileAtomic((run_dir_ / "allowed").string(), allowed_).ok());
    CoordinatorConfig c;
    c.bind = "tcp://127.0.0.1:*";
    c.secret_key_file = (root_ / "keys" / "coordinator.key").string();
    c.allowed_sites_file = (run_dir_ / "allowed").string();
    c.run_dir = (run_dir_ / "run").string();
    c.model = {"bdn-tiny", 8, 64, SynthClassNames("rbc"), ""};
    c.train.learning_rate = 0.003;
    c.train.local_epochs = 2;
    c.train.batch_size = 16;
    c.rounds = rounds;
    c.min_sites = min_sites;
    c.start_sites = start_sites;
    c.round_deadline_s = 60;
    c.wait_for_sites_s = 30;
    c.heartbeat_s = 0.3;
    c.holdout = {{"synth", (root_ / "holdout").string()}};
    // Plain float FedAvg, whatever the defaults: these tests are about the rounds, not the
    // codecs; secure rounds are secure_round_test.cc's (SecureConfig).
    c.secure_aggregation = SecureAggregation::kOff;
    c.strategy = "fedavg";
    c.codec_down = "f32";
    c.codec_up = "f32";
    return c;
  }

  // Starts the coordinator on a thread; its endpoint is returned once bound.
  std::string StartCoordinator(const CoordinatorConfig& c, bool resume = false,
                               std::unique_ptr<Strategy> custom = nullptr) {
    auto strategy = custom ? Result<std::unique_ptr<Strategy>>(std::move(custom)) : MakeStrategy(c);
    EXPECT_TRUE(strategy.ok());
    auto eval =
        CentralEvaluator::Create(c.holdout, c.model.class_names, c.model.input_size, c.preprocess,
                                 CentralEvalOptions{c.eval_engine, 1});
    EXPECT_TRUE(eval.ok()) << eval.status();
    auto coord = Coordinator::Create(c, std::move(*strategy), std::move(*eval), resume);
    EXPECT_TRUE(coord.ok()) << coord.status();
    coordinator_ = std::move(*coord);
    std::string endpoint = coordinator_->endpoint();
    coordinator_stop_.store(false);
    coordinator_thread_ =
        std::thread([this] { run_status_ = coordinator_->Run(coordinator_stop_); });
    return endpoint;
  }

  void StartSite(ClientConfig c, const std::string& endpoint) {
    c.coordinator = endpoint;
    threads_.emplace_back([this, c] {
      auto site = Site::Create(c);
      ASSERT_TRUE(site.ok()) << site.status();
      Status st = (*site)->Run(stop_);
      EXPECT_TRUE(st.ok() || st.code() == StatusCode::kAborted) << st;
    });
  }

  // A scripted misbehaving site speaking the protocol with its own dealer.
  void StartFake(ClientConfig c, const std::string& endpoint, Fake behaviour) {
    c.coordinator = endpoint;
    threads_.emplace_back([this, c, behaviour] {
      auto opts = DealerOptionsFromConfig(c);
      ASSERT_TRUE(opts.ok()) << opts.status();
      wire::Hello h;
      h.site_id = c.site_id;
      h.class_names = SynthClassNames("rbc");
      h.num_train = behaviour == Fake::kHugeWeight ? uint64_t{1} << 60 : kFakeImages;
      if (behaviour == Fake::kHelloAndVanish) {
        for (int i = 0; i < 20 && !stop_.load(); ++i) {
          auto d = DealerEndpoint::Connect(*opts);
          ASSERT_TRUE(d.ok());
          (void)d->Send(wire::Encode({wire::kProtocolVersion, "", h}), milliseconds(1000));
          std::this_thread::sleep_for(milliseconds(50));
        }  // each dealer closes here, before the welcome can be read
        return;
      }
      auto dealer = DealerEndpoint::Connect(*opts);
      ASSERT_TRUE(dealer.ok());
      if (behaviour == Fake::kFloodHellos) {
        for (int i = 0; i < 200000 && !stop_.load(); ++i) {  // more than socket buffers hold
          (void)dealer->Send(wire::Encode({wire::kProtocolVersion, "", h}), milliseconds(100));
        }
        while (!stop_.load()) std::this_thread::sleep_for(milliseconds(50));  // never reads
        return;
      }
      ASSERT_TRUE(
          dealer->Send(wire::Encode({wire::kProtocolVersion, "", h}), milliseconds(5000)).ok());
      auto last_beat = std::chrono::steady_clock::now();
      SessionLedger ledger;  // outlives `session`
      std::unique_ptr<SecAggSession> session;
      while (!stop_.load()) {
        if (std::chrono::steady_clock::now() - last_beat > milliseconds(200)) {
          (void)dealer->Send(wire::Encode({wire::kProtocolVersion, "", wire::Heartbeat{1, 0, ""}}),
                             milliseconds(100));
          last_beat = std::chrono::steady_clock::now();
        }
        auto bytes = dealer->Receive(milliseconds(100));
        if (!bytes.ok() || !bytes->has_value()) continue;
        auto msg = wire::Decode(**bytes);
        if (!msg.ok()) continue;
        if (std::holds_alternative<wire::Goodbye>(msg->body)) return;
        if (behaviour == Fake::kVanishAfterSharing &&
            FakeSecAgg(c, msg->run_id, msg->body, &*dealer, &ledger, &session)) {
          return;  // vanishes right after sending its shares
        }
        if (behaviour == Fake::kSpoilSecureSum) {
          SpoilSecAgg(c, msg->run_id, msg->body, &*dealer, &ledger, &session);
          continue;
        }
        auto* task = std::get_if<wire::TrainTask>(&msg->body);
        if (task == nullptr) continue;
        if (behaviour == Fake::kVanish) return;  // dies mid-round: dealer closes, no heartbeats
        if (behaviour == Fake::kSilentButAlive || behaviour == Fake::kVanishAfterSharing) continue;
        auto state = UnpackModel(task->model.data);
        ASSERT_TRUE(state.ok());
        wire::Update u;
        u.round = task->round;
        u.task_id = task->task_id;
        u.num_samples = behaviour == Fake::kHugeWeight ? uint64_t{1} << 60 : 50;
        if (behaviour == Fake::kStaleRound) u.round = task->round + 7;
        ModelState trained = *state;
        if (behaviour == Fake::kNanUpdate) trained.tensors[0].values[0] = std::nanf("");
        if (behaviour == Fake::kHugeWeight) {
          for (NamedTensor& t : trained.tensors) std::fill(t.values.begin(), t.values.end(), 1000.f);
        }
        u.update.data = EncodeUpdate(trained, &*state, *ParseCodecSpec("f32"), 1);
        (void)dealer->Send(wire::Encode({wire::kProtocolVersion, msg->run_id, u}),
                           milliseconds(5000));
      }
    });
  }

  // Answers secure aggregation stages 1 and 2 honestly; true once the shares are sent.
  static bool FakeSecAgg(const ClientConfig& c, const std::string& run_id, const wire::Body& body,
                         DealerEndpoint* dealer, SessionLedger* ledger,
                         std::unique_ptr<SecAggSession>* session) {
    auto send = [&](wire::Body b) {
      (void)dealer->Send(wire::Encode({wire::kProtocolVersion, run_id, std::move(b)}),
                         milliseconds(5000));
    };
    if (auto* setup = std::get_if<wire::SecAggSetup>(&body)) {
      auto hex = LoadSigningKeyFile(c.signing_key_file);
      auto raw = HexDecodeKey(hex->secret_seed, "seed");
      std::array<uint8_t, 32> bytes{};
      std::memcpy(bytes.data(), raw->data(), 32);
      wire::SecAggKeys keys;
      SecAggPolicy policy;
      policy.require_roster = false;  // the harness trusts its own coordinator's directory
      const SessionContext context{run_id, c.site_id, kFakeImages};  // as its hello said
      auto started = SecAggSession::Start(*setup, context, secagg::Secret32(bytes), policy,
                                          *ledger, &keys);
      EXPECT_TRUE(started.ok()) << started.status();
      if (!started.ok()) return false;
      *session = std::move(*started);
      send(keys);
    } else if (auto* relay = std::get_if<wire::SecAggKeysRelay>(&body)) {
      if (!*session) return false;
      auto shares = (*session)->OnKeysRelay(*relay);
      EXPECT_TRUE(shares.ok()) << shares.status();
      send(*shares);
      return true;
    }
    return false;
  }

  // A site that follows every SecAgg+ stage to the letter (it is not caught by any message
  // check) but masks words of 2^31 instead of its quantized update: values beyond what any
  // inputs in the quantization range add up to.
  static void SpoilSecAgg(const ClientConfig& c, const std::string& run_id,
                          const wire::Body& body, DealerEndpoint* dealer, SessionLedger* ledger,
                          std::unique_ptr<SecAggSession>* session) {
    auto send = [&](wire::Body b) {
      (void)dealer->Send(wire::Encode({wire::kProtocolVersion, run_id, std::move(b)}),
                         milliseconds(5000));
    };
    auto masked = [&] {
      auto m = (*session)->TakeMasked();
      if (m.ok() && m->has_value()) send(**m);
    };
    if (std::holds_alternative<wire::SecAggSetup>(body)) {
      FakeSecAgg(c, run_id, body, dealer, ledger, session);
    } else if (std::holds_alternative<wire::SecAggKeysRelay>(body)) {
      FakeSecAgg(c, run_id, body, dealer, ledger, session);
    } else if (!*session) {
      return;
    } else if (auto* relay = std::get_if<wire::SecAggSharesRelay>(&body)) {
      if ((*session)->OnSharesRelay(*relay).ok()) masked();
    } else if (auto* task = std::get_if<wire::TrainTask>(&body)) {
      SecAggInput in;
      in.task_id = task->task_id;
      in.num_samples = kFakeImages;
      in.quantized.assign((*session)->setup().vector_length, 0x80000000u);  // half the ring
      if ((*session)->SetInput(std::move(in)).ok()) masked();
    } else if (auto* check = std::get_if<wire::SecAggConsistencyCheck>(&body)) {
      auto signature = (*session)->OnConsistencyCheck(*check);
      if (signature.ok()) send(*signature);
    } else if (auto* request = std::get_if<wire::SecAggUnmaskRequest>(&body)) {
      auto response = (*session)->OnUnmaskRequest(*request);
      if (response.ok()) send(*response);
    }
  }

  // Waits for the coordinator to finish, then stops any site still running.
  void Finish() {
    coordinator_thread_.join();
    stop_.store(true);
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  std::vector<nlohmann::json> Metrics() {
    std::vector<nlohmann::json> rows;
    std::ifstream in(run_dir_ / "run" / "metrics.jsonl");
    std::string line;
    while (std::getline(in, line)) rows.push_back(nlohmann::json::parse(line));
    return rows;
  }

  inline static fs::path root_;
  inline static KeyPair coordinator_keys_;
  fs::path run_dir_;
  std::string allowed_;
  std::atomic<bool> stop_{false};              // sites
  std::atomic<bool> coordinator_stop_{false};  // the coordinator (a crash, for resume tests)
  std::thread coordinator_thread_;
  std::unique_ptr<Coordinator> coordinator_;
  Status run_status_;
  std::vector<std::thread> threads_;
};

}  // namespace fedsmear::testing_federation
