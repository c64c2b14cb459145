// SiteRegistry: hellos, welcomes, liveness and connection adoption (see site_registry.h).
#include "coordinator/site_registry.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "models/contribution.h"

namespace fedsmear {

using std::chrono::milliseconds;

SiteRegistry::SiteRegistry(ServerTransport& transport, SiteRegistryOptions options,
                           SiteRegistryObserver observer)
    : transport_(transport), options_(std::move(options)), observer_(std::move(observer)) {}

Status SiteRegistry::Send(const std::string& site_id, wire::Body body, uint64_t* bytes) {
  auto it = sites_.find(site_id);
  if (it == sites_.end()) return NotFound("site " + site_id + " is not registered");
  wire::Message m;
  m.run_id = options_.run_id;
  m.body = std::move(body);
  std::string encoded = wire::Encode(m);
  if (bytes) *bytes = encoded.size();
  if (observer_.message) observer_.message("sent", site_id, m.body, encoded);
  return transport_.Send(it->second.peer_id, encoded, options_.send_timeout);
}

void SiteRegistry::SendRaw(const std::string& peer_id, const wire::Body& body) {
  wire::Message m{wire::kProtocolVersion, options_.run_id, body};
  (void)transport_.Send(peer_id, wire::Encode(m), milliseconds(1000));
}

std::vector<SiteInfo> SiteRegistry::Live() const {
  std::vector<SiteInfo> out;
  for (const auto& [id, rec] : sites_) {
    if (!IsSilent(id) && rec.pending_plan.empty()) out.push_back(rec.info);
  }
  return out;
}

std::map<std::string, std::string> SiteRegistry::PendingApproval() const {
  std::map<std::string, std::string> out;
  for (const auto& [id, rec] : sites_) {
    if (!IsSilent(id) && !rec.pending_plan.empty()) out[id] = rec.pending_plan;
  }
  return out;
}

bool SiteRegistry::IsSilent(const std::string& site_id) const {
  auto it = sites_.find(site_id);
  if (it == sites_.end()) return true;
  return Clock::now() - it->second.last_seen >
         std::chrono::duration<double>(3 * options_.heartbeat_s);
}

uint64_t SiteRegistry::Weight(const std::string& site_id) const {
  auto it = sites_.find(site_id);
  if (it == sites_.end()) return 1;
  return ContributionWeight(it->second.info.num_train, options_.max_site_samples);
}

std::vector<std::string> SiteRegistry::Ids() const {
  std::vector<std::string> out;
  for (const auto& [id, rec] : sites_) out.push_back(id);
  return out;
}

void SiteRegistry::OnHello(const Incoming& in, const wire::Message& msg,
                           const wire::Hello& hello) {
  const std::string id = hello.site_id;
  wire::Welcome w{true, "", options_.run_id, static_cast<uint32_t>(options_.heartbeat_s * 1000),
                  options_.plan_bytes, options_.plan_hash};
  if (observer_.message) observer_.message("received", id, msg.body, in.bytes);
  if (!in.site_id.empty() && in.site_id != id) {
    w.accepted = false;
    w.reason = "hello names site " + id + " but the key belongs to " + in.site_id;
  } else if (!wire::IsValidSiteId(id)) {
    w.accepted = false;
    w.reason = "invalid site id";
  } else if (options_.require_class_names && hello.class_names.empty()) {
    w.accepted = false;
    w.reason = "site reports no classes";
  }
  if (!w.accepted) {
    spdlog::warn("refused site {}: {}", id, w.reason);
    if (observer_.refused) observer_.refused(id, w.reason);
    SendRaw(in.peer_id, w);
    return;
  }
  if (hello.num_train > static_cast<uint64_t>(options_.max_site_samples)) {
    spdlog::warn("site {} claims {} training images; its weight is capped at max_site_samples {}",
                 id, hello.num_train, options_.max_site_samples);
  }
  Record& rec = sites_[id];
  const bool known = !rec.peer_id.empty();
  if (known) peer_sites_.erase(rec.peer_id);  // its old connection
  rec.peer_id = in.peer_id;
  rec.info = {id, hello.num_train, hello.num_val, hello.class_counts, hello.class_names};
  rec.last_seen = Clock::now();
  peer_sites_[in.peer_id] = id;
  if (observer_.joined) observer_.joined(id, rec.info);
  // (A hello again on this same connection never gets here: Pump() ignores it.)
  spdlog::info("site {} {} ({} train / {} val images)", id, known ? "reconnected" : "joined",
               hello.num_train, hello.num_val);
  // A site that vanished or does not read its socket is dropped, never the run.
  wire::Message welcome{wire::kProtocolVersion, options_.run_id, w};
  Status sent = transport_.Send(in.peer_id, wire::Encode(welcome), milliseconds(1000));
  if (!sent.ok()) {
    spdlog::warn("site {}: could not deliver the welcome ({}): connection dropped", id,
                 sent.message());
    peer_sites_.erase(in.peer_id);
    rec.peer_id.clear();
    rec.last_seen = Clock::time_point{};  // silent from now on: rounds drop it
    muted_peers_.insert(in.peer_id);
  }
}

std::string SiteRegistry::SiteOf(const Incoming& in) {
  auto peer = peer_sites_.find(in.peer_id);
  if (peer == peer_sites_.end() && !in.site_id.empty()) {
    // The transport authenticated a known site on a new connection (its network came back):
    // adopt the connection, so that tasks and replies of the round in progress are not lost.
    auto known = sites_.find(in.site_id);
    if (known != sites_.end()) {
      peer_sites_.erase(known->second.peer_id);
      known->second.peer_id = in.peer_id;
      peer = peer_sites_.emplace(in.peer_id, in.site_id).first;
      spdlog::info("site {} is back on a new connection ({})", in.site_id, in.peer_address);
    }
  }
  return peer == peer_sites_.end() ? std::string() : peer->second;
}

Result<bool> SiteRegistry::Pump(milliseconds timeout, const Handler& on_round) {
  ASSIGN_OR_RETURN(std::optional<Incoming> in, transport_.Receive(timeout));
  if (!in) return false;
  wire::DecodeLimits limits;
  limits.max_message_bytes = options_.max_message_bytes;
  Result<wire::Message> msg = wire::Decode(in->bytes, limits);
  if (!msg.ok()) {
    spdlog::warn("dropped a malformed message from {} ({}): {}", in->site_id, in->peer_address,
                 msg.status().message());
    return true;
  }
  if (muted_peers_.count(in->peer_id)) return true;  // a connection dropped for not reading
  if (auto* hello = std::get_if<wire::Hello>(&msg->body)) {
    auto peer = peer_sites_.find(in->peer_id);
    if (peer != peer_sites_.end() && peer->second == hello->site_id) {
      // Hello again on the connection it was welcomed on: that welcome is already queued to it
      // (one connection delivers in order), so only last-seen moves. A site that floods hellos
      // costs a decode each, not a welcome and an audit entry each.
      Record& rec = sites_[peer->second];
      rec.last_seen = Clock::now();
      if (rec.repeated_hellos++ == 0) {
        spdlog::warn("site {} said hello again on the same connection: repeats are ignored",
                     peer->second);
      }
      return true;
    }
    OnHello(*in, *msg, *hello);
    return true;
  }
  const std::string site = SiteOf(*in);
  if (site.empty()) {
    // A site we do not know (we restarted, or it skipped its hello): ask it to introduce itself.
    SendRaw(in->peer_id, wire::Error{wire::ErrorCode::kUnknownSite, "say hello first"});
    return true;
  }
  if (!in->site_id.empty() && in->site_id != site) {
    // The connection belongs to one site, the authenticated key to another: never trust it.
    spdlog::warn("dropped {} on the connection of {}: authenticated as {}",
                 wire::BodyName(msg->body), site, in->site_id);
    return true;
  }
  sites_[site].last_seen = Clock::now();
  if (observer_.seen) observer_.seen(site);
  if (auto* beat = std::get_if<wire::Heartbeat>(&msg->body)) {
    std::string& pending = sites_[site].pending_plan;
    if (beat->pending_plan != pending) {
      if (beat->pending_plan.empty()) {
        spdlog::info("site {} approved the training plan", site);
      } else {
        spdlog::warn("site {} waits for its approval of training plan {}", site,
                     beat->pending_plan);
      }
      pending = beat->pending_plan;
    }
    return true;
  }
  if (!msg->run_id.empty() && msg->run_id != options_.run_id) {
    spdlog::warn("site {} sent {} for another run ({}): ignored", site, wire::BodyName(msg->body),
                 msg->run_id);
    return true;
  }
  if (observer_.message) observer_.message("received", site, msg->body, in->bytes);
  if (auto* r = std::get_if<wire::Refusal>(&msg->body); r != nullptr && r->task_id == 0) {
    // Not an answer to a task: the site declines the run as a whole (e.g. an unapproved plan).
    spdlog::warn("site {} declines the run: {}", site, r->reason);
  }
  on_round(site, *msg, in->bytes.size());
  return true;
}

Status SiteRegistry::DrainQueued() {
  auto late = [](const std::string& site, wire::Message& m, size_t) {
    spdlog::warn("ignoring {} from {} that arrived between rounds", wire::BodyName(m.body), site);
  };
  for (int i = 0; i < 100000; ++i) {
    ASSIGN_OR_RETURN(bool got, Pump(milliseconds(0), late));
    if (!got) break;
  }
  return Status::Ok();
}

}  // namespace fedsmear
