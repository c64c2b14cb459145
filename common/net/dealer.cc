// DealerEndpoint: DEALER socket, CURVE client with a pinned server key, handshake monitor.
#include "common/net/dealer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <zmq.hpp>

#include "common/net/socket_util.h"

namespace fedsmear {

using net_internal::ClampMs;
using net_internal::SetOption;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::chrono::milliseconds kSlice{100};
constexpr int kMonitorEvents = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
}  // namespace

// Members are destroyed in reverse order: socket, monitor, then the context.
struct DealerEndpoint::State {
  zmq::context_t context{1};
  DealerOptions options;
  zmq::socket_t monitor;  // PAIR receiving `socket`'s handshake events
  zmq::socket_t socket;
  int generation = 0;
  std::optional<Clock::time_point> rebuild_at;  // set after a refused handshake
  uint64_t handshake_failures = 0;
  uint64_t handshake_successes = 0;
  std::string last_failure;

  ~State() { Close(); }
  Status Open();
  void Close();
  Status Maintain();
};

Status DealerEndpoint::State::Open() {
  try {
    socket = zmq::socket_t(context, zmq::socket_type::dealer);
  } catch (const zmq::error_t& e) {
    return net_internal::ZmqStatus(e, "creating dealer socket");
  }
  zmq::socket_t& s = socket;
  RETURN_IF_ERROR(net_internal::SetCommonOptions(s, options.linger, options.max_message_bytes,
                                                 options.heartbeat_ivl, options.heartbeat_timeout));
  RETURN_IF_ERROR(SetOption(s, zmq::sockopt::immediate, true, "ZMQ_IMMEDIATE"));
  RETURN_IF_ERROR(SetOption(s, zmq::sockopt::reconnect_ivl, ClampMs(options.reconnect_ivl),
                            "ZMQ_RECONNECT_IVL"));
  RETURN_IF_ERROR(SetOption(s, zmq::sockopt::reconnect_ivl_max,
                            ClampMs(options.reconnect_ivl_max), "ZMQ_RECONNECT_IVL_MAX"));
  if (!options.insecure) {
    RETURN_IF_ERROR(SetOption(s, zmq::sockopt::curve_serverkey, options.server_public_key,
                              "ZMQ_CURVE_SERVERKEY"));
    RETURN_IF_ERROR(SetOption(s, zmq::sockopt::curve_publickey, options.client_keys.public_key,
                              "ZMQ_CURVE_PUBLICKEY"));
    RETURN_IF_ERROR(SetOption(s, zmq::sockopt::curve_secretkey, options.client_keys.secret_key,
                              "ZMQ_CURVE_SECRETKEY"));
  }
  char address[96];
  std::snprintf(address, sizeof(address), "inproc://fedsmear-dealer-monitor-%p-%d",
                static_cast<void*>(this), generation++);
  if (zmq_socket_monitor(s.handle(), address, kMonitorEvents) != 0) {
    return net_internal::ZmqStatus(zmq_errno(), "monitoring the dealer socket");
  }
  try {
    monitor = zmq::socket_t(context, zmq::socket_type::pair);
    monitor.set(zmq::sockopt::linger, 0);
    monitor.connect(address);
    s.connect(options.endpoint);
  } catch (const zmq::error_t& e) {
    return net_internal::ZmqStatus(e, "connecting to " + options.endpoint);
  }
  return Status::Ok();
}

void DealerEndpoint::State::Close() {
  if (socket) {
    zmq_socket_monitor(socket.handle(), nullptr, 0);
    socket.close();
  }
  if (monitor) monitor.close();
}

// Drains handshake events; rebuilds the socket when a refused handshake's backoff has passed.
Status DealerEndpoint::State::Maintain() {
  while (monitor) {
    auto frames = net_internal::RecvAllFrames(monitor);
    if (!frames.ok() || frames->empty()) break;
    if ((*frames)[0].size() < 6) continue;
    uint16_t event = 0;
    uint32_t value = 0;
    std::memcpy(&event, (*frames)[0].data(), 2);
    std::memcpy(&value, static_cast<const char*>((*frames)[0].data()) + 2, 4);
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      // The connection works now: a rebuild planned after an earlier failure would only drop
      // it, and with it whatever the coordinator sends meanwhile.
      ++handshake_successes;
      last_failure.clear();
      rebuild_at.reset();
      continue;
    }
    ++handshake_failures;
    std::string reason =
        event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
            ? "the coordinator refused this site's key (ZAP status " + std::to_string(value) +
                  "); is it in allowed_sites?"
            : "handshake with the coordinator failed (wrong coordinator key or security mode "
              "mismatch?)";
    if (reason != last_failure) {  // once per streak, not at every retry
      spdlog::warn("dealer: {}: {}", options.endpoint, reason);
      last_failure = std::move(reason);
    }
    rebuild_at = Clock::now() + options.reconnect_ivl_max;
  }
  if (rebuild_at && Clock::now() >= *rebuild_at) {
    rebuild_at.reset();
    Close();
    spdlog::debug("dealer: reconnecting to {} with a fresh socket", options.endpoint);
    return Open();
  }
  return Status::Ok();
}

Result<DealerEndpoint> DealerEndpoint::Connect(const DealerOptions& options) {
  if (options.max_message_bytes <= 0) return InvalidArgument("max_message_bytes must be > 0");
  if (options.reconnect_ivl.count() <= 0 || options.reconnect_ivl_max < options.reconnect_ivl) {
    return InvalidArgument("need 0 < reconnect_ivl <= reconnect_ivl_max");
  }
  if (!options.insecure) {
    if (!CurveAvailable()) return FailedPrecondition("libzmq has no CURVE support");
    RETURN_IF_ERROR(ValidateZ85Key(options.client_keys.public_key, "site public key"));
    RETURN_IF_ERROR(ValidateZ85Key(options.client_keys.secret_key, "site secret key"));
    RETURN_IF_ERROR(ValidateZ85Key(options.server_public_key, "coordinator public key"));
  }
  auto state = std::make_unique<State>();
  state->options = options;
  RETURN_IF_ERROR(state->Open());
  spdlog::debug("dealer: connecting to {} ({})", options.endpoint,
                options.insecure ? "INSECURE plain TCP" : "CurveZMQ");
  return DealerEndpoint(std::move(state));
}

DealerEndpoint::DealerEndpoint(std::unique_ptr<State> state) : state_(std::move(state)) {}
DealerEndpoint::DealerEndpoint(DealerEndpoint&&) noexcept = default;
DealerEndpoint& DealerEndpoint::operator=(DealerEndpoint&&) noexcept = default;
DealerEndpoint::~DealerEndpoint() = default;

const std::string& DealerEndpoint::endpoint() const { return state_->options.endpoint; }
uint64_t DealerEndpoint::handshake_failures() const { return state_->handshake_failures; }
uint64_t DealerEndpoint::handshake_successes() const { return state_->handshake_successes; }
const std::string& DealerEndpoint::last_failure() const { return state_->last_failure; }

Status DealerEndpoint::Send(std::string_view bytes, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    RETURN_IF_ERROR(state_->Maintain());
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    zmq::socket_t& s = state_->socket;
    RETURN_IF_ERROR(SetOption(s, zmq::sockopt::sndtimeo,
                              ClampMs(std::clamp(left, std::chrono::milliseconds(0), kSlice)),
                              "ZMQ_SNDTIMEO"));
    try {
      if (s.send(zmq::buffer(bytes), zmq::send_flags::none)) return Status::Ok();
    } catch (const zmq::error_t& e) {
      return net_internal::ZmqStatus(e, "sending to " + state_->options.endpoint);
    }
    if (Clock::now() >= deadline) {
      std::string msg = "coordinator " + state_->options.endpoint + " not reachable within " +
                        std::to_string(timeout.count()) + " ms";
      if (!state_->last_failure.empty()) msg += ": " + state_->last_failure;
      return Timeout(msg);
    }
  }
}

Result<std::optional<std::string>> DealerEndpoint::Receive(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    RETURN_IF_ERROR(state_->Maintain());
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    ASSIGN_OR_RETURN(bool readable,
                     net_internal::PollIn(state_->socket,
                                          std::clamp(left, std::chrono::milliseconds(0), kSlice)));
    if (readable) {
      ASSIGN_OR_RETURN(auto frames, net_internal::RecvAllFrames(state_->socket));
      if (frames.size() == 1) return std::optional<std::string>(frames[0].to_string());
      if (!frames.empty()) spdlog::debug("dealer: dropped a message of {} frames", frames.size());
      continue;
    }
    if (Clock::now() >= deadline) return std::optional<std::string>();
  }
}

}  // namespace fedsmear
