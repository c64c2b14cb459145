#include "coordinator/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "common/net/endpoint_config.h"
#include "coordinator/secure_round.h"
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
  if (config.secure_aggregation == SecureAggregation::kSecAggPlus) {
    return InvalidArgument(
        "insecure: true with secure_aggregation secagg+ (the default) exposes every stage to "
        "the network: plain TCP is for local debugging with secure_aggregation: off (set "
        "force_insecure only for tests)");
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

std::shared_ptr<const StatusModel> Coordinator::status_model() const { return impl_->status; }

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
    RETURN_IF_ERROR(impl->log.StartFresh());
  }
  ASSIGN_OR_RETURN(impl->collector, MakeCollector(config));
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
  // Connected sites that wait for their approval of the plan extend the wait to approval_wait_s
  // (from now) when no round could run without them: approval is a state, and the status page
  // names who and which plan.
  const int fewest = std::max(config.min_sites, collector->MinSites());
  const auto approval_until =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(config.approval_wait_s));
  std::string shown;
  while (static_cast<int>(sites().Live().size()) < count) {
    if (stop.load()) return Aborted("stopped");
    const std::map<std::string, std::string> pending = sites().PendingApproval();
    const bool approvals_would_do =
        !pending.empty() && static_cast<int>(sites().Live().size()) < fewest &&
        static_cast<int>(sites().Live().size() + pending.size()) >= std::min(count, fewest);
    std::string who;
    for (const auto& [site, hash] : pending) who += (who.empty() ? "" : ", ") + site;
    if (Clock::now() >= (approvals_would_do ? std::max(until, approval_until) : until)) {
      std::string why = std::to_string(sites().Live().size()) + " of the " +
                        std::to_string(count) + " required sites ready within " +
                        std::to_string(static_cast<int>(
                            approvals_would_do ? config.approval_wait_s : seconds)) + " s";
      if (!pending.empty()) {
        why += "; " + who + " did not approve training plan " + pending.begin()->second;
      }
      return Unavailable(why);
    }
    if (!pending.empty() && who != shown) {
      shown = who;
      spdlog::warn("waiting for {} to approve training plan {} (up to {:.0f} s)", who,
                   pending.begin()->second, config.approval_wait_s);
      status->SetStage(next_round, "waiting for approval",
                       who + " must approve plan " + pending.begin()->second);
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

}  // namespace fedsmear
