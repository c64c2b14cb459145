#include "client/site.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <optional>
#include <system_error>
#include <thread>
#include <variant>

#include "client/latent_store.h"
#include "client/optimizer_store.h"
#include "client/site_connection.h"
#include "common/settings/settings_help.h"
#include "client/site_impl.h"
#include "client/site_metrics.h"
#include "client/site_plan.h"
#include "common/net/endpoint_config.h"
#include "common/net/keys.h"
#include "common/wire/messages.h"
#include "fedsmear/version.h"
#include "models/packed_model.h"
#include "train/trainer.h"

namespace fedsmear {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string DataPath(const ClientConfig& c) {
  return c.data.manifest.empty() ? c.data.root : c.data.manifest;
}

}  // namespace

Site::Site(const ClientConfig& config) : config_(config), impl_(std::make_unique<Impl>()) {}
Site::~Site() {
  if (impl_ && impl_->work.valid()) impl_->work.wait();
}

Result<std::unique_ptr<Site>> Site::Create(const ClientConfig& config) {
  std::unique_ptr<Site> site(new Site(config));
  ScanOptions scan;
  scan.max_image_side = config.data.max_image_side;
  ASSIGN_OR_RETURN(site->dataset_, OpenDataset(DataPath(config), {}, scan));
  if (site->dataset_.samples.size() < 2) {
    return FailedPrecondition("site data at " + DataPath(config) + " has fewer than 2 images");
  }
  ASSIGN_OR_RETURN(site->split_, TrainValSplit(site->dataset_, config.data.val_fraction,
                                               config.data.seed, config.data.split == SplitMode::kGroup));
  site->class_order_ = site->dataset_.class_names;
  std::string signing_public;
  if (!config.signing_key_file.empty()) {
    ASSIGN_OR_RETURN(SigningKeyHex hex, LoadSigningKeyFile(config.signing_key_file));
    ASSIGN_OR_RETURN(std::string seed, HexDecodeKey(hex.secret_seed, "ed25519-secret-key"));
    std::array<uint8_t, 32> raw{};
    std::memcpy(raw.data(), seed.data(), raw.size());
    secagg::SecureZero(seed.data(), seed.size());
    secagg::Secret32 secret(raw);
    secagg::SecureZero(raw.data(), raw.size());
    ASSIGN_OR_RETURN(secagg::Ed25519KeyPair pair, secagg::Ed25519KeyPair::FromPrivate(secret));
    ASSIGN_OR_RETURN(std::string pub, HexDecodeKey(hex.public_key, "ed25519-public-key"));
    if (std::memcmp(pub.data(), pair.public_key().data(), pub.size()) != 0) {
      return InvalidArgument(config.signing_key_file +
                             ": ed25519-public-key does not belong to ed25519-secret-key");
    }
    site->signing_seed_.emplace(std::move(secret));
    signing_public = hex.public_key;
  }
  ASSIGN_OR_RETURN(site->secagg_policy_, SecAggPolicy::FromConfig(config.policy));
  ASSIGN_OR_RETURN(site->governance_, SiteGovernance::Create(config, signing_public));
  if (!config.state_dir.empty()) site->LoadTrainingState();
  torch::set_num_threads(config.threads);
  spdlog::info("site {}: {} images in {} classes ({} train, {} validation), {} files skipped",
               config.site_id, site->dataset_.samples.size(), site->dataset_.class_names.size(),
               site->split_.train.size(), site->split_.val.size(), site->dataset_.skipped.size());
  return site;
}

void Site::LoadTrainingState() {
  Result<std::optional<SavedLatent>> saved = LoadLatentState(config_.state_dir);
  if (!saved.ok()) {
    // A damaged file costs the magnitudes, not the site: start from +-epsilon, keep the file.
    const std::string path = LatentStatePath(config_.state_dir);
    std::error_code ec;
    std::filesystem::rename(path, path + ".corrupt", ec);
    spdlog::warn("ignoring saved latent weights ({}); kept as {}.corrupt, starting from signs",
                 saved.status().message(), path);
    return;
  }
  if (saved->has_value()) {
    latent_ = std::move((*saved)->latent);
    state_run_id_ = (*saved)->run_id;
    spdlog::info("resumed latent weights from {}{}", LatentStatePath(config_.state_dir),
                 state_run_id_.empty() ? std::string() : " (run " + state_run_id_ + ")");
  }
  LoadOptimizer();
}

void Site::LoadOptimizer() {
  const std::string path = OptimizerStatePath(config_.state_dir);
  Result<std::optional<SavedOptimizerState>> saved = LoadOptimizerState(config_.state_dir);
  if (!saved.ok()) {
    // Like damaged latent weights: it costs the moments, not the site.
    std::error_code ec;
    std::filesystem::rename(path, path + ".corrupt", ec);
    spdlog::warn("ignoring the saved optimizer state ({}); kept as {}.corrupt, starting fresh",
                 saved.status().message(), path);
    return;
  }
  if (!saved->has_value()) return;
  SavedOptimizerState& s = **saved;
  if (!state_run_id_.empty() && s.run_id != state_run_id_) {
    spdlog::info("ignoring the saved optimizer state of run {}: the latent weights are of run {}",
                 s.run_id, state_run_id_);
    return;
  }
  state_run_id_ = s.run_id;
  optimizer_state_ = std::make_unique<OptimizerState>(std::move(s.state));
  spdlog::info("resumed optimizer state (step {}) from {}{}", optimizer_state_->step, path,
               state_run_id_.empty() ? std::string() : " (run " + state_run_id_ + ")");
}

void Site::AdoptRun(const std::string& run_id) {
  if (run_id.empty() || run_id == state_run_id_) return;
  if (!state_run_id_.empty() && (!latent_.tensors.empty() || optimizer_state_)) {
    spdlog::info("run {} is not run {}: its training starts without that run's latent weights "
                 "and optimizer state", run_id, state_run_id_);
    latent_ = ModelState{};
    optimizer_state_.reset();
  }
  state_run_id_ = run_id;
}

Status Site::StartTraining(wire::TrainTask task, const std::string& run_id,
                           const std::function<Status(wire::Body, milliseconds)>& send) {
  // The site's own rules first (they need no plan), then the approved plan, then the data.
  Result<std::string> refusal = secagg_policy_.TaskRefusal(task);
  if (refusal.ok() && refusal->empty()) refusal = governance_->Admit(task);
  if (refusal.ok() && refusal->empty()) {
    refusal = PrepareTask(task.class_names, task.train.local_epochs);
  }
  if (!refusal.ok()) return refusal.status();
  if (!refusal->empty()) {
    spdlog::warn("refusing round {}: {}", task.round, *refusal);
    (void)send(wire::Refusal{task.task_id, task.round, *refusal}, milliseconds(1000));
    return Status::Ok();
  }
  const std::string target =
      task.train.logit_adjustment <= 0 ? ""
      : task.class_prior.empty()       ? ", logit adjustment toward balanced classes"
                                       : ", logit adjustment toward the pooled class prior";
  TrainConfig base;
  base.learning_rate = task.train.learning_rate;  // logged on its own
  spdlog::info("round {}: training at lr {:.2e} ({}){}", task.round, task.train.learning_rate,
               settings::SettingsThatDiffer(task.train, base, true), target);
  const bool secure = IsSecureTask(task);
  if (secure && !(impl_->secagg && impl_->secagg->task_id() == task.task_id)) {
    // Training without a session would end in a plain Update the coordinator must not see.
    (void)send(wire::Refusal{task.task_id, task.round, "no secure aggregation session for task"},
               milliseconds(1000));
    return Status::Ok();
  }
  if (secure) {
    if (Status st = CheckSessionModel(impl_->secagg->setup(), task.model.data); !st.ok()) {
      spdlog::warn("refusing round {}: {}", task.round, st.message());
      (void)send(wire::Refusal{task.task_id, task.round, st.message()}, milliseconds(1000));
      return Status::Ok();
    }
  }
  AdoptRun(run_id);
  impl_->work_task_id = task.task_id;
  if (secure) {
    impl_->work = std::async(std::launch::async,
                             [this, t = std::move(task), setup = impl_->secagg->setup()] {
                               std::optional<WorkGate::Slot> slot;
                               if (gate_) slot.emplace(*gate_);
                               return AsWork(TrainSecure(t, setup));
                             });
    return Status::Ok();
  }
  impl_->work = std::async(std::launch::async, [this, t = std::move(task)] {
    std::optional<WorkGate::Slot> slot;
    if (gate_) slot.emplace(*gate_);
    return AsWork(Train(t));
  });
  return Status::Ok();
}

Status Site::SendMaskedIfReady(const std::function<Status(wire::Body, milliseconds)>& send) {
  if (!impl_->secagg) return Status::Ok();
  Result<std::optional<wire::SecAggMasked>> masked = impl_->secagg->TakeMasked();
  if (!masked.ok()) {
    spdlog::error("secure aggregation: masking failed: {}", masked.status().ToString());
    (void)send(wire::Error{wire::ErrorCode::kInternal, masked.status().message()},
               milliseconds(1000));
    return Status::Ok();
  }
  if (!masked->has_value()) return Status::Ok();
  spdlog::info("round {}: masked update sent (secure aggregation)", (*masked)->round);
  Status st = send(std::move(**masked), milliseconds(30000));
  if (!st.ok()) spdlog::warn("could not deliver the masked update: {}", st.message());
  return Status::Ok();
}

Status Site::HandleSecAgg(wire::Body& body, const std::string& run_id,
                          const std::function<Status(wire::Body, milliseconds)>& send) {
  auto refuse = [&](uint64_t task_id, uint32_t round, const std::string& why) {
    spdlog::warn("secure aggregation round {}: {}", round, why);
    (void)send(wire::Refusal{task_id, round, why}, milliseconds(1000));
  };
  if (auto* setup = std::get_if<wire::SecAggSetup>(&body)) {
    // A refused setup leaves the current session alone; an admitted one supersedes it.
    if (std::string why = governance_->Admit(*setup); !why.empty()) {
      refuse(setup->task_id, setup->round, why);
      return Status::Ok();
    }
    if (!signing_seed_) {
      refuse(setup->task_id, setup->round, "site has no signing_key_file for secure aggregation");
      return Status::Ok();
    }
    wire::SecAggKeys keys;
    const SessionContext context{run_id, config_.site_id,
                                 static_cast<uint64_t>(split_.train.size())};
    auto session = SecAggSession::Start(*setup, context, *signing_seed_,
                                        secagg_policy_, impl_->secagg_ledger, &keys, memo_);
    if (!session.ok()) {
      refuse(setup->task_id, setup->round, session.status().message());
      return Status::Ok();
    }
    impl_->secagg = std::move(*session);
    spdlog::info("round {}: joined secure aggregation ({} sites, threshold {})", setup->round,
                 setup->sites.size(), setup->threshold);
    return send(std::move(keys), milliseconds(5000));
  }
  SecAggSession* session = impl_->secagg.get();
  auto matches = [&](uint32_t round, uint64_t task_id) {
    return session != nullptr && session->round() == round && session->task_id() == task_id;
  };
  Status st = Status::Ok();
  if (auto* keys = std::get_if<wire::SecAggKeysRelay>(&body)) {
    if (!matches(keys->round, keys->task_id)) return Status::Ok();
    Result<wire::SecAggShares> shares = session->OnKeysRelay(*keys);
    st = shares.ok() ? send(std::move(*shares), milliseconds(5000)) : shares.status();
  } else if (auto* shares = std::get_if<wire::SecAggSharesRelay>(&body)) {
    if (!matches(shares->round, shares->task_id)) return Status::Ok();
    st = session->OnSharesRelay(*shares);
    if (st.ok()) return SendMaskedIfReady(send);
  } else if (auto* check = std::get_if<wire::SecAggConsistencyCheck>(&body)) {
    if (!matches(check->round, check->task_id)) return Status::Ok();
    Result<wire::SecAggConsistencySignature> signature = session->OnConsistencyCheck(*check);
    st = signature.ok() ? send(std::move(*signature), milliseconds(5000)) : signature.status();
  } else if (auto* request = std::get_if<wire::SecAggUnmaskRequest>(&body)) {
    if (!matches(request->round, request->task_id)) return Status::Ok();
    Result<wire::SecAggUnmaskResponse> response = session->OnUnmaskRequest(*request);
    st = response.ok() ? send(std::move(*response), milliseconds(5000)) : response.status();
  }
  if (!st.ok()) {
    // The coordinator treats this site as dropped; its peers' shares recover the sum.
    spdlog::warn("secure aggregation: {}", st.ToString());
    if (session != nullptr) {
      refuse(session->task_id(), session->round(), st.message());
      impl_->secagg.reset();
    }
  }
  return Status::Ok();
}

Status Site::Run(const std::atomic<bool>& stop) {
  ASSIGN_OR_RETURN(DealerOptions options, DealerOptionsFromConfig(config_));
  ASSIGN_OR_RETURN(DealerEndpoint dealer, DealerEndpoint::Connect(options));
  return Serve(dealer, stop);
}

Status Site::Serve(SiteTransport& transport, const std::atomic<bool>& stop) {
  Impl& s = *impl_;
  if (config_.metrics.enabled && !s.metrics) {
    ASSIGN_OR_RETURN(s.metrics,
                     SiteMetrics::Start(config_, static_cast<int64_t>(split_.train.size()),
                                        static_cast<int64_t>(split_.val.size())));
    spdlog::info("site metrics on port {} at /metrics", s.metrics->port());
  }
  ConnectionHooks hooks;
  hooks.before_send = [&](const wire::Body& body, const std::string& encoded) {
    // Recorded before it leaves: a message the audit log cannot hold is not sent.
    AuditContext context;
    context.vote_bits = s.secagg ? s.secagg->setup().vote_bits : 0;
    context.bn_moments =
        s.secagg && s.secagg->setup().purpose == wire::SecAggPurpose::kBnStatistics;
    context.binary_weights = trained_binary_.load();
    context.float_values = trained_float_.load();
    RETURN_IF_ERROR(governance_->BeforeSend(body, encoded, context));
    if (s.metrics) s.metrics->Sent(body, encoded.size());
    return Status::Ok();
  };
  hooks.send_failed = [&](const wire::Body& body, const std::string& encoded,
                          const std::string& why) { governance_->SendFailed(body, encoded, why); };
  hooks.received = [&](const wire::Message& m, size_t bytes) {
    if (s.metrics) s.metrics->Received(m, bytes);
  };
  hooks.hello = [&] {
    wire::Hello h;
    h.site_id = config_.site_id;
    h.software_version = kVersion;
    h.class_names = dataset_.class_names;
    if (config_.policy.share_class_counts) {
      for (int64_t c : CountClasses(dataset_, &split_.train)) h.class_counts.push_back(c);
    }
    h.num_train = split_.train.size();
    h.num_val = split_.val.size();
    return h;
  };
  hooks.welcomed = [&](const wire::Welcome& w) { return governance_->OnWelcome(w); };
  hooks.pending_plan = [&] { return governance_->PendingApproval(); };
  SiteConnection connection(transport, config_.coordinator,
                            milliseconds(static_cast<int64_t>(config_.heartbeat_s * 1000)),
                            std::move(hooks));
  const SendFn send = [&](wire::Body body, milliseconds timeout) {
    return connection.Send(std::move(body), timeout);
  };
  // Introduce ourselves (the coordinator may not be up yet), then serve: deliver finished
  // work, start queued work, beat, and hand task traffic to the task runner.
  while (!stop.load()) {
    ASSIGN_OR_RETURN(bool introduced, connection.EnsureIntroduced());
    if (!introduced) continue;
    RETURN_IF_ERROR(DeliverWork(send));
    connection.Beat();
    ASSIGN_OR_RETURN(std::optional<wire::Message> msg, connection.Receive());
    if (connection.finished()) {
      if (config_.exit_after_run) return Status::Ok();
      // A daemon outlives runs: it waits for the coordinator's next one (which may be another
      // process on the same address), as it waited for the first.
      spdlog::info("waiting for the coordinator's next run");
      for (int i = 0; i < 20 && !stop.load(); ++i) std::this_thread::sleep_for(milliseconds(100));
      connection.Rejoin();
    }
    if (msg) RETURN_IF_ERROR(Dispatch(*msg, connection, send));
  }
  return Aborted("stopped");
}

}  // namespace fedsmear
