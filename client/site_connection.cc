// SiteConnection: hello, welcome, heartbeats, goodbye (see site_connection.h).
#include "client/site_connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace fedsmear {
namespace {

using std::chrono::milliseconds;

int64_t NowUnixMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

SiteConnection::SiteConnection(SiteTransport& transport, std::string coordinator,
                               milliseconds heartbeat, ConnectionHooks hooks)
    : transport_(transport),
      coordinator_(std::move(coordinator)),
      heartbeat_(heartbeat),
      hooks_(std::move(hooks)) {}

Status SiteConnection::Send(wire::Body body, milliseconds timeout) {
  wire::Message m;
  m.run_id = run_id_;
  m.body = std::move(body);
  std::string encoded = wire::Encode(m);
  if (hooks_.before_send) RETURN_IF_ERROR(hooks_.before_send(m.body, encoded));
  Status st = transport_.Send(encoded, timeout);
  if (!st.ok() && hooks_.send_failed) hooks_.send_failed(m.body, encoded, st.message());
  return st;
}

Result<bool> SiteConnection::EnsureIntroduced() {
  if (introduced_) return true;
  Status st = Send(hooks_.hello(), milliseconds(1000));
  if (st.ok()) {
    introduced_ = true;
    spdlog::info("hello sent to {}", coordinator_);
    return true;
  }
  if (st.code() != StatusCode::kTimeout) return st;
  spdlog::debug("coordinator not reachable yet: {}", st.message());
  return false;
}

void SiteConnection::Rejoin() {
  introduced_ = false;
  finished_ = false;
  run_id_.clear();
}

void SiteConnection::Beat() {
  if (Clock::now() - last_heartbeat_ < heartbeat_) return;
  last_heartbeat_ = Clock::now();
  (void)Send(wire::Heartbeat{++heartbeat_seq_, NowUnixMs(),
                             hooks_.pending_plan ? hooks_.pending_plan() : std::string()},
             milliseconds(100));
}

Result<std::optional<wire::Message>> SiteConnection::Receive() {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                   transport_.Receive(std::min(milliseconds(200), heartbeat_ / 2)));
  if (!bytes) return std::optional<wire::Message>();
  Result<wire::Message> msg = wire::Decode(*bytes);
  if (!msg.ok()) {
    spdlog::warn("dropped a malformed message from the coordinator: {}", msg.status().message());
    return std::optional<wire::Message>();
  }
  if (hooks_.received) hooks_.received(*msg, bytes->size());
  if (auto* w = std::get_if<wire::Welcome>(&msg->body)) {
    if (!w->accepted) return PermissionDenied("coordinator refused this site: " + w->reason);
    run_id_ = w->run_id;
    // Beat at least as often as the coordinator expects.
    if (w->heartbeat_ms > 0) heartbeat_ = std::min(heartbeat_, milliseconds(w->heartbeat_ms));
    spdlog::info("joined run {}", run_id_);
    if (std::string why = hooks_.welcomed ? hooks_.welcomed(*w) : ""; !why.empty()) {
      // Stay connected: tasks are refused until the plan is approved, then the site trains.
      spdlog::warn("{}", why);
      (void)Send(wire::Refusal{0, 0, why}, milliseconds(1000));
      last_heartbeat_ = {};  // say at once whether the plan awaits approval
      Beat();
    }
    return std::optional<wire::Message>();
  }
  if (auto* err = std::get_if<wire::Error>(&msg->body)) {
    if (err->code == wire::ErrorCode::kUnknownSite) {
      spdlog::info("coordinator does not know this site (restarted?): saying hello again");
      introduced_ = false;
    } else {
      spdlog::warn("coordinator error {}: {}", wire::ErrorCodeName(err->code), err->message);
    }
    return std::optional<wire::Message>();
  }
  if (auto* bye = std::get_if<wire::Goodbye>(&msg->body)) {
    spdlog::info("run finished: {}", bye->reason);
    finished_ = true;
    return std::optional<wire::Message>();
  }
  return std::optional<wire::Message>(std::move(*msg));
}

}  // namespace fedsmear
