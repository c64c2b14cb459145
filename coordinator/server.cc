#include "coordinator/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "common/net/router.h"
#include "coordinator/server_impl.h"
#include "coordinator/strategy_registry.h"
#include "models/densenet.h"

namespace fedsmear {
namespace {

using std::chrono::milliseconds;

std::string NewRunId(uint64_t seed) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  uint64_t ms = std::chrono::duration_cast<milliseconds>(now).count();
  char buf[48];
  std::snprintf(buf, sizeof(buf), "run-%llx-%llx", static_cast<unsigned long long>(ms),
                static_cast<unsigned long long>(seed));
  return buf;
}

// Endpoints reachable only from this machine.
bool IsLocalEndpoint(const std::string& endpoint) {
  for (const char* prefix : {"tcp://127.", "tcp://localhost:", "tcp://[::1]:", "ipc://", "inproc://"}) {
    if (endpoint.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace

Status CheckInsecureUse(const CoordinatorConfig& config) {
  if (!config.insecure || config.force_insecure) return Status::Ok();
  if (config.secure_aggregation == "secagg+") {
    return InvalidArgument(
        "insecure: true with secure_aggregation secagg+ exposes every stage to the network "
        "(set force_insecure only for tests)");
  }
  if (!IsLocalEndpoint(config.bind)) {
    return InvalidArgument("insecure: true on the non-loopback bind " + config.bind +
                           " (set force_insecure only for tests)");
  }
  return Status::Ok();
}

Coordinator::Coordinator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Coordinator::~Coordinator() = default;

std::string Coordinator::endpoint() const { return impl_->transport->endpoint(); }

int Coordinator::status_port() const {
  return impl_->status_service ? impl_->status_service->port() : 0;
}

Result<std::unique_ptr<Coordinator>> Coordinator::Create(
    const CoordinatorConfig& config, std::unique_ptr<Strategy> strategy,
    std::unique_ptr<CentralEvaluator> evaluator, bool resume,
    std::unique_ptr<ServerTransport> transport) {
  RETURN_IF_ERROR(CheckInsecureUse(config));
  RETURN_IF_ERROR(CheckRegisteredChoices(config));
  const bool transport_given = transport != nullptr;
  auto impl = std::make_unique<Impl>(config);
  impl->strategy = std::move(strategy);
  impl->evaluator = std::move(evaluator);
  std::error_code ec;
  std::filesystem::create_directories(config.run_dir, ec);
  if (ec) return IoError("cannot create run directory " + config.run_dir + ": " + ec.message());
  impl->run_id = NewRunId(static_cast<uint64_t>(config.seed));
  bool restored = false;
  if (resume) {
    Status st = impl->Restore();
    if (st.ok()) {
      restored = true;
    } else if (st.code() != StatusCode::kNotFound) {
      return st;
    } else {
      spdlog::warn("nothing to resume in {}: starting a fresh run", config.run_dir);
    }
  }
  if (!restored) {
    torch::manual_seed(static_cast<uint64_t>(config.seed));
    const ModelSpec& m = config.model;
    if (!m.initial_model.empty()) {
      ASSIGN_OR_RETURN(impl->global, LoadModelFile(m.initial_model));
      if (impl->global.meta.arch != m.arch || impl->global.meta.classes != m.classes ||
          impl->global.meta.input_size != m.input_size) {
        return InvalidArgument("initial_model " + m.initial_model + " is " +
                               impl->global.meta.arch + ", not the configured " + m.arch);
      }
      impl->global.meta.class_names = m.class_names;
      spdlog::info("starting from {}", m.initial_model);
    } else {
      ASSIGN_OR_RETURN(DenseNet model, MakeModel(m.arch, m.classes, m.input_size,
                                                 config.train.bn_momentum));
      impl->global = ExportState(model, m.class_names);
    }
    // A fresh run starts a fresh metrics file.
    std::filesystem::remove(std::filesystem::path(config.run_dir) / "metrics.jsonl", ec);
  }
  if (config.secure_aggregation == "secagg+") RETURN_IF_ERROR(impl->LoadSigningKeys());
  RETURN_IF_ERROR(impl->OpenAudit());
  RETURN_IF_ERROR(impl->StartStatus(restored));
  RETURN_IF_ERROR(impl->Attach(std::move(transport)));
  spdlog::info("coordinator {} listening on {} ({}), run {}", impl->strategy->name(),
               impl->transport->endpoint(),
               transport_given ? "in-process"
               : config.insecure ? "INSECURE plain TCP" : "CurveZMQ",
               impl->run_id);
  return std::unique_ptr<Coordinator>(new Coordinator(std::move(impl)));
}

Status Coordinator::Impl::Attach(std::unique_ptr<ServerTransport> given) {
  if (given) {
    transport = std::move(given);
  } else {
    ASSIGN_OR_RETURN(RouterOptions ro, RouterOptionsFromConfig(config));
    ASSIGN_OR_RETURN(RouterEndpoint router, RouterEndpoint::Bind(ro));
    transport = std::make_unique<RouterEndpoint>(std::move(router));
  }
  SiteRegistryOptions o;
  o.run_id = run_id;
  o.heartbeat_s = config.heartbeat_s;
  o.max_site_samples = config.max_site_samples;
  o.max_message_bytes = static_cast<uint64_t>(config.max_message_mb * 1048576.0);
  o.require_class_names = !config.model.class_names.empty();
  o.plan_bytes = plan.bytes;
  o.plan_hash = plan.hash;
  SiteRegistryObserver observer;
  observer.message = [this](const char* kind, const std::string& site, const wire::Body& body,
                            const std::string& encoded) {
    AuditMessage(kind, site, body, encoded);
  };
  observer.refused = [this](const std::string& site, const std::string& reason) {
    AuditEvent("site_refused", {{"site", site}, {"reason", reason}});
  };
  observer.joined = [this](const std::string& site, const SiteInfo& info) {
    status->SiteJoined(site, static_cast<int64_t>(info.num_train),
                       static_cast<int64_t>(info.num_val));
  };
  observer.seen = [this](const std::string& site) { status->SiteSeen(site); };
  registry.emplace(*transport, std::move(o), std::move(observer));
  return Status::Ok();
}

Status Coordinator::Impl::WaitForSites(int count, double seconds, const std::atomic<bool>& stop) {
  auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(seconds));
  auto ignore = [](const std::string& site, wire::Message& m, size_t) {
    spdlog::debug("ignoring {} from {} between rounds", wire::BodyName(m.body), site);
  };
  while (static_cast<int>(sites().Live().size()) < count) {
    if (stop.load()) return Aborted("stopped");
    if (Clock::now() >= until) {
      return Unavailable(std::to_string(sites().Live().size()) + " of the " +
                         std::to_string(count) + " required sites connected within " +
                         std::to_string(static_cast<int>(seconds)) + " s");
    }
    RETURN_IF_ERROR(sites().Pump(milliseconds(200), ignore).status());
  }
  return Status::Ok();
}

Status Coordinator::Impl::Pause(double seconds, const std::atomic<bool>& stop) {
  auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(seconds));
  auto ignore = [](const std::string& site, wire::Message& m, size_t) {
    spdlog::debug("ignoring {} from {} between rounds", wire::BodyName(m.body), site);
  };
  while (Clock::now() < until) {
    if (stop.load()) return Aborted("stopped");
    RETURN_IF_ERROR(sites().Pump(milliseconds(100), ignore).status());
  }
  return Status::Ok();
}

void Coordinator::Impl::SayGoodbye(const std::string& reason) {
  for (const std::string& id : sites().Ids()) (void)sites().Send(id, wire::Goodbye{reason});
}

Status Coordinator::Run(const std::atomic<bool>& stop) {
  Status st = impl_->RunLoop(stop);
  impl_->status->RunEnded(st);
  return st;
}

Status Coordinator::Impl::RunLoop(const std::atomic<bool>& stop) {
  Impl& s = *this;
  const CoordinatorConfig& c = s.config;
  const int start = std::max(c.min_sites, c.start_sites);
  spdlog::info("waiting up to {:.0f} s for {} site(s)", c.wait_for_sites_s, start);
  s.status->SetStage(0, "waiting for sites", std::to_string(start) + " needed");
  Status st = s.WaitForSites(start, c.wait_for_sites_s, stop);
  if (!st.ok() && start > c.min_sites && static_cast<int>(s.sites().Live().size()) >= c.min_sites) {
    spdlog::warn("{}; starting with {} site(s)", st.message(), s.sites().Live().size());
    st = Status::Ok();
  }
  if (!st.ok()) {
    s.SayGoodbye(st.message());
    return st;
  }
  int retries = 0;
  for (int round = s.next_round; round <= c.rounds;) {
    if (stop.load()) return Aborted("stopped after round " + std::to_string(round - 1));
    s.status->SetStage(round, "training");
    Result<RoundOutcome> outcome = s.TrainRound(round, stop);
    if (!outcome.ok()) return outcome.status();
    s.AuditRound(round, *outcome);
    if (!outcome->completed) {
      s.status->RoundFinished({{"round", round}}, outcome->failures, /*completed=*/false);
      s.status->SetStage(round, "waiting to retry", outcome->incomplete_reason);
      if (++retries > c.max_round_retries) {
        std::string why = "round " + std::to_string(round) + " failed " +
                          std::to_string(retries) + " times with fewer than " +
                          std::to_string(c.min_sites) + " updates; stopping the run";
        if (!outcome->incomplete_reason.empty())
          why += " (last: " + outcome->incomplete_reason + ")";
        s.SayGoodbye(why);
        return Unavailable(why);
      }
      spdlog::warn("round {} incomplete ({} updates < min_sites {}): retry {}/{}", round,
                   outcome->updates, c.min_sites, retries, c.max_round_retries);
      // Give sites time to come back (or finish work they started for a crashed predecessor).
      RETURN_IF_ERROR(s.Pause(std::min(10.0, c.round_deadline_s / 10), stop));
      (void)s.WaitForSites(c.min_sites, c.wait_for_sites_s, stop);
      continue;
    }
    retries = 0;
    if (c.federated_evaluation) {
      s.status->SetStage(round, "federated evaluation");
      Result<EvalSummary> fed = s.FederatedEvaluate(round, &outcome->bytes_eval_down, stop);
      if (!fed.ok()) return fed.status();
      if (fed->sites > 0) outcome->federated = *fed;
    }
    bool early_stop = false;
    s.status->SetStage(round, "central evaluation and checkpoint");
    RETURN_IF_ERROR(s.AfterRound(round, *outcome, &early_stop));
    s.next_round = ++round;
    if (early_stop) {
      spdlog::info("central macro-F1 has not improved for {} rounds: stopping early",
                   c.early_stop_patience);
      break;
    }
  }
  RETURN_IF_ERROR(s.WriteFinalOutputs());
  s.SayGoodbye("run complete");
  return Status::Ok();
}

}  // namespace fedsmear
