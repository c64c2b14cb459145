#include "coordinator/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

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

std::string Coordinator::endpoint() const { return impl_->router->endpoint(); }

int Coordinator::status_port() const {
  return impl_->status_service ? impl_->status_service->port() : 0;
}

Result<std::unique_ptr<Coordinator>> Coordinator::Create(
    const CoordinatorConfig& config, std::unique_ptr<Strategy> strategy,
    std::unique_ptr<CentralEvaluator> evaluator, bool resume) {
  RETURN_IF_ERROR(CheckInsecureUse(config));
  RETURN_IF_ERROR(CheckRegisteredChoices(config));
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
  ASSIGN_OR_RETURN(RouterOptions ro, RouterOptionsFromConfig(config));
  ASSIGN_OR_RETURN(RouterEndpoint router, RouterEndpoint::Bind(ro));
  impl->router.emplace(std::move(router));
  spdlog::info("coordinator {} listening on {} ({}), run {}", impl->strategy->name(),
               impl->router->endpoint(), config.insecure ? "INSECURE plain TCP" : "CurveZMQ",
               impl->run_id);
  return std::unique_ptr<Coordinator>(new Coordinator(std::move(impl)));
}

Status Coordinator::Impl::Send(const std::string& site_id, wire::Body body, uint64_t* bytes) {
  auto it = sites.find(site_id);
  if (it == sites.end()) return NotFound("site " + site_id + " is not registered");
  wire::Message m;
  m.run_id = run_id;
  m.body = std::move(body);
  std::string encoded = wire::Encode(m);
  if (bytes) *bytes = encoded.size();
  AuditMessage("sent", site_id, m.body, encoded);
  return router->Send(it->second.peer_id, encoded, milliseconds(10000));
}

std::vector<SiteInfo> Coordinator::Impl::LiveSites() const {
  std::vector<SiteInfo> out;
  for (const auto& [id, rec] : sites) {
    if (!IsSilent(id)) out.push_back(rec.info);
  }
  return out;
}

bool Coordinator::Impl::IsSilent(const std::string& site_id) const {
  auto it = sites.find(site_id);
  if (it == sites.end()) return true;
  return Clock::now() - it->second.last_seen >
         std::chrono::duration<double>(3 * config.heartbeat_s);
}

uint64_t Coordinator::Impl::SiteWeight(const std::string& site_id) const {
  auto it = sites.find(site_id);
  const uint64_t cap = static_cast<uint64_t>(std::max<int64_t>(1, config.max_site_samples));
  if (it == sites.end()) return 1;
  return std::clamp<uint64_t>(it->second.info.num_train, 1, cap);
}

Result<bool> Coordinator::Impl::Pump(
    milliseconds timeout,
    const std::function<void(const std::string&, wire::Message&, size_t)>& on_round) {
  ASSIGN_OR_RETURN(std::optional<Incoming> in, router->Receive(timeout));
  if (!in) return false;
  wire::DecodeLimits limits;
  limits.max_message_bytes = static_cast<uint64_t>(config.max_message_mb * 1048576.0);
  Result<wire::Message> msg = wire::Decode(in->bytes, limits);
  if (!msg.ok()) {
    spdlog::warn("dropped a malformed message from {} ({}): {}", in->site_id, in->peer_address,
                 msg.status().message());
    return true;
  }
  if (muted_peers.count(in->peer_id)) return true;  // a connection dropped for not reading
  if (auto* hello = std::get_if<wire::Hello>(&msg->body)) {
    const std::string id = hello->site_id;
    wire::Welcome w{true, "", run_id, static_cast<uint32_t>(config.heartbeat_s * 1000),
                    plan.bytes, plan.hash};
    AuditMessage("received", id, msg->body, in->bytes);
    if (!in->site_id.empty() && in->site_id != id) {
      w.accepted = false;
      w.reason = "hello names site " + id + " but the key belongs to " + in->site_id;
    } else if (!wire::IsValidSiteId(id)) {
      w.accepted = false;
      w.reason = "invalid site id";
    } else if (!config.model.class_names.empty() && hello->class_names.empty()) {
      w.accepted = false;
      w.reason = "site reports no classes";
    }
    if (!w.accepted) {
      spdlog::warn("refused site {}: {}", id, w.reason);
      AuditEvent("site_refused", {{"site", id}, {"reason", w.reason}});
      wire::Message m{wire::kProtocolVersion, run_id, w};
      (void)router->Send(in->peer_id, wire::Encode(m), milliseconds(1000));
      return true;
    }
    if (hello->num_train > static_cast<uint64_t>(config.max_site_samples)) {
      spdlog::warn("site {} claims {} training images; its weight is capped at max_site_samples {}",
                   id, hello->num_train, config.max_site_samples);
    }
    SiteRecord& rec = sites[id];
    bool known = !rec.peer_id.empty();
    const bool repeated = known && rec.peer_id == in->peer_id;
    if (known && rec.peer_id != in->peer_id) peer_sites.erase(rec.peer_id);
    rec.peer_id = in->peer_id;
    rec.info = {id, hello->num_train, hello->num_val, hello->class_counts};
    rec.last_seen = Clock::now();
    peer_sites[in->peer_id] = id;
    status->SiteJoined(id, static_cast<int64_t>(hello->num_train),
                       static_cast<int64_t>(hello->num_val));
    spdlog::log(repeated ? spdlog::level::debug : spdlog::level::info,
                "site {} {} ({} train / {} val images)", id,
                repeated ? "said hello again" : known ? "reconnected" : "joined", hello->num_train,
                hello->num_val);
    // A site that vanished or does not read its socket is dropped, never the run (issue 16).
    wire::Message welcome{wire::kProtocolVersion, run_id, w};
    Status sent = router->Send(in->peer_id, wire::Encode(welcome), milliseconds(1000));
    if (!sent.ok()) {
      spdlog::warn("site {}: could not deliver the welcome ({}): connection dropped", id,
                   sent.message());
      peer_sites.erase(in->peer_id);
      rec.peer_id.clear();
      rec.last_seen = Clock::time_point{};  // silent from now on: rounds drop it
      muted_peers.insert(in->peer_id);
    }
    return true;
  }
  auto peer = peer_sites.find(in->peer_id);
  if (peer == peer_sites.end() && !in->site_id.empty()) {
    // CurveZMQ authenticated a known site on a new connection (its network came back): adopt
    // the connection, so that tasks and replies of the round in progress are not lost.
    auto known = sites.find(in->site_id);
    if (known != sites.end()) {
      peer_sites.erase(known->second.peer_id);
      known->second.peer_id = in->peer_id;
      peer = peer_sites.emplace(in->peer_id, in->site_id).first;
      spdlog::info("site {} is back on a new connection ({})", in->site_id, in->peer_address);
    }
  }
  if (peer == peer_sites.end()) {
    // A site we do not know (we restarted, or it skipped its hello): ask it to introduce itself.
    wire::Message m{wire::kProtocolVersion, run_id,
                    wire::Error{wire::ErrorCode::kUnknownSite, "say hello first"}};
    (void)router->Send(in->peer_id, wire::Encode(m), milliseconds(1000));
    return true;
  }
  const std::string site = peer->second;
  if (!in->site_id.empty() && in->site_id != site) {
    // The routing id belongs to one site, the CurveZMQ key to another: never trust the message.
    spdlog::warn("dropped {} on the connection of {}: authenticated as {}",
                 wire::BodyName(msg->body), site, in->site_id);
    return true;
  }
  sites[site].last_seen = Clock::now();
  status->SiteSeen(site);
  if (std::holds_alternative<wire::Heartbeat>(msg->body)) return true;
  if (!msg->run_id.empty() && msg->run_id != run_id) {
    spdlog::warn("site {} sent {} for another run ({}): ignored", site, wire::BodyName(msg->body),
                 msg->run_id);
    return true;
  }
  AuditMessage("received", site, msg->body, in->bytes);
  if (auto* r = std::get_if<wire::Refusal>(&msg->body); r != nullptr && r->task_id == 0) {
    // Not an answer to a task: the site declines the run as a whole (e.g. an unapproved plan).
    spdlog::warn("site {} declines the run: {}", site, r->reason);
  }
  on_round(site, *msg, in->bytes.size());
  return true;
}

Status Coordinator::Impl::DrainQueued() {
  auto late = [](const std::string& site, wire::Message& m, size_t) {
    spdlog::warn("ignoring {} from {} that arrived between rounds", wire::BodyName(m.body), site);
  };
  for (int i = 0; i < 100000; ++i) {
    ASSIGN_OR_RETURN(bool got, Pump(milliseconds(0), late));
    if (!got) break;
  }
  return Status::Ok();
}

Status Coordinator::Impl::WaitForSites(int count, double seconds, const std::atomic<bool>& stop) {
  auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(seconds));
  auto ignore = [](const std::string& site, wire::Message& m, size_t) {
    spdlog::debug("ignoring {} from {} between rounds", wire::BodyName(m.body), site);
  };
  while (static_cast<int>(LiveSites().size()) < count) {
    if (stop.load()) return Aborted("stopped");
    if (Clock::now() >= until) {
      return Unavailable(std::to_string(LiveSites().size()) + " of the " +
                         std::to_string(count) + " required sites connected within " +
                         std::to_string(static_cast<int>(seconds)) + " s");
    }
    RETURN_IF_ERROR(Pump(milliseconds(200), ignore).status());
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
    RETURN_IF_ERROR(Pump(milliseconds(100), ignore).status());
  }
  return Status::Ok();
}

void Coordinator::Impl::SayGoodbye(const std::string& reason) {
  for (const auto& [id, rec] : sites) {
    (void)Send(id, wire::Goodbye{reason});
  }
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
  if (!st.ok() && start > c.min_sites && static_cast<int>(s.LiveSites().size()) >= c.min_sites) {
    spdlog::warn("{}; starting with {} site(s)", st.message(), s.LiveSites().size());
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
