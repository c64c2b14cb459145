// RouterEndpoint: ROUTER socket, CURVE server and ZAP allowlist.
#include "common/net/router.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <set>
#include <zmq.hpp>

#include "common/net/socket_util.h"
#include "common/net/zap.h"

namespace fedsmear {

using net_internal::ClampMs;
using net_internal::SetOption;

// Members are destroyed in reverse order: socket, then the ZAP thread, then the context.
struct RouterEndpoint::State {
  zmq::context_t context{1};
  std::optional<ZapAuthenticator> zap;
  zmq::socket_t socket;
  std::string endpoint;
  bool secure = false;
  std::chrono::steady_clock::time_point next_reload_check{};
  std::set<std::string> warned;  // "site key" pairs whose dropped messages were logged
  uint64_t revoked_dropped = 0;
};

Result<RouterEndpoint> RouterEndpoint::Bind(const RouterOptions& options) {
  if (options.max_message_bytes <= 0) return InvalidArgument("max_message_bytes must be > 0");
  auto state = std::make_unique<State>();
  state->secure = !options.insecure;
  if (state->secure) {
    if (!CurveAvailable()) return FailedPrecondition("libzmq has no CURVE support");
    RETURN_IF_ERROR(ValidateZ85Key(options.server_keys.public_key, "server public key"));
    RETURN_IF_ERROR(ValidateZ85Key(options.server_keys.secret_key, "server secret key"));
    if (options.allowed_sites.empty() && options.allowed_sites_file.empty()) {
      spdlog::warn("router: the site allowlist is empty; no site can connect");
    }
    // The handler must be bound before the socket accepts connections.
    ASSIGN_OR_RETURN(ZapAuthenticator zap,
                     ZapAuthenticator::Start(state->context, options.allowed_sites,
                                             options.allowed_sites_file));
    state->zap.emplace(std::move(zap));
  }
  try {
    state->socket = zmq::socket_t(state->context, zmq::socket_type::router);
  } catch (const zmq::error_t& e) {
    return net_internal::ZmqStatus(e, "creating router socket");
  }
  zmq::socket_t& s = state->socket;
  RETURN_IF_ERROR(net_internal::SetCommonOptions(s, options.linger, options.max_message_bytes,
                                                 options.heartbeat_ivl, options.heartbeat_timeout));
  RETURN_IF_ERROR(SetOption(s, zmq::sockopt::router_mandatory, true, "ZMQ_ROUTER_MANDATORY"));
  if (state->secure) {
    RETURN_IF_ERROR(SetOption(s, zmq::sockopt::curve_server, true, "ZMQ_CURVE_SERVER"));
    RETURN_IF_ERROR(SetOption(s, zmq::sockopt::curve_secretkey, options.server_keys.secret_key,
                              "ZMQ_CURVE_SECRETKEY"));
    RETURN_IF_ERROR(SetOption(s, zmq::sockopt::zap_domain, std::string("fedsmear"),
                              "ZMQ_ZAP_DOMAIN"));
  }
  try {
    s.bind(options.endpoint);
    state->endpoint = s.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return net_internal::ZmqStatus(e, "binding " + options.endpoint);
  }
  spdlog::info("router: listening on {} ({})", state->endpoint,
               state->secure ? "CurveZMQ" : "INSECURE plain TCP");
  return RouterEndpoint(std::move(state));
}

RouterEndpoint::RouterEndpoint(std::unique_ptr<State> state) : state_(std::move(state)) {}
RouterEndpoint::RouterEndpoint(RouterEndpoint&&) noexcept = default;
RouterEndpoint& RouterEndpoint::operator=(RouterEndpoint&&) noexcept = default;
RouterEndpoint::~RouterEndpoint() = default;

const std::string& RouterEndpoint::endpoint() const { return state_->endpoint; }
bool RouterEndpoint::secure() const { return state_->secure; }

Result<std::optional<Incoming>> RouterEndpoint::Receive(std::chrono::milliseconds timeout) {
  if (state_->zap && state_->zap->failed()) {
    return Unavailable("the ZAP authentication handler stopped on an error (see the log): "
                       "no site can connect");
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (state_->zap && std::chrono::steady_clock::now() >= state_->next_reload_check) {
      if (state_->zap->MaybeReload()) state_->warned.clear();
      state_->next_reload_check = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    const auto left = std::max(std::chrono::milliseconds(0),
                               std::chrono::duration_cast<std::chrono::milliseconds>(
                                   deadline - std::chrono::steady_clock::now()));
    ASSIGN_OR_RETURN(bool readable, net_internal::PollIn(state_->socket, left));
    if (!readable) return std::optional<Incoming>();
    ASSIGN_OR_RETURN(auto frames, net_internal::RecvAllFrames(state_->socket));
    if (frames.empty()) continue;
    if (frames.size() != 2) {  // routing id + one payload frame is all our dealers send
      spdlog::debug("router: dropped a message of {} frames", frames.size());
      continue;
    }
    Incoming in;
    in.peer_id = frames[0].to_string();
    in.site_id = net_internal::FrameProperty(frames[1], "User-Id");
    in.peer_address = net_internal::FrameProperty(frames[1], "Peer-Address");
    in.bytes = frames[1].to_string();
    if (state_->zap) {
      const std::string key = net_internal::FrameProperty(frames[1], "X-Curve-Key");
      if (!state_->zap->Admits(in.site_id, key)) {
        ++state_->revoked_dropped;
        if (state_->warned.insert(in.site_id + " " + key).second) {
          spdlog::warn("router: dropping messages of site {} from {}: its key {} is no longer on "
                       "the allowlist (revoked or rotated)",
                       in.site_id, in.peer_address, KeyPrefix(key));
        }
        continue;
      }
    }
    return std::optional<Incoming>(std::move(in));
  }
}

Status RouterEndpoint::Send(std::string_view peer_id, std::string_view bytes,
                            std::chrono::milliseconds timeout) {
  zmq::socket_t& s = state_->socket;
  RETURN_IF_ERROR(SetOption(s, zmq::sockopt::sndtimeo, ClampMs(timeout), "ZMQ_SNDTIMEO"));
  try {
    if (!s.send(zmq::buffer(peer_id), zmq::send_flags::sndmore)) {
      return Timeout("send queue to the peer stayed full");
    }
    // The routing frame is queued; the payload frame follows it atomically once accepted.
    if (!s.send(zmq::buffer(bytes), zmq::send_flags::none)) {
      return Timeout("send queue to the peer stayed full");
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) return Unavailable("peer is not connected");
    return net_internal::ZmqStatus(e, "sending to peer");
  }
  return Status::Ok();
}

void RouterEndpoint::SetAllowedSites(std::vector<AllowedSite> sites) {
  if (state_->zap) state_->zap->SetAllowedSites(std::move(sites));
}

uint64_t RouterEndpoint::auth_accepted() const {
  return state_->zap ? state_->zap->accepted() : 0;
}
uint64_t RouterEndpoint::allowlist_reloads() const {
  return state_->zap ? state_->zap->reloads() : 0;
}
uint64_t RouterEndpoint::revoked_dropped() const { return state_->revoked_dropped; }
uint64_t RouterEndpoint::auth_refused() const { return state_->zap ? state_->zap->refused() : 0; }

}  // namespace fedsmear
