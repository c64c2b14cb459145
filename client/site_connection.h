// SiteConnection: a site's conversation with the coordinator over a SiteTransport
// (common/net/transport.h), apart from the tasks: hello (again after the coordinator forgot the
// site), welcome, heartbeats, goodbye, and the run id every message carries.
//
// The daemon's loop calls EnsureIntroduced (false while the coordinator is unreachable: call
// again), Beat, and Receive, which handles the connection's own messages and hands task traffic
// back. Every message leaves through Send, which encodes it with the run id and calls the
// before_send hook first (the site's audit log: a message it cannot record is not sent).
//
// Thread-safety: one thread (the daemon's loop). Ownership: borrows the transport, which must
// outlive it; owns the hooks.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "common/net/transport.h"
#include "common/status.h"
#include "common/wire/messages.h"

namespace fedsmear {

struct ConnectionHooks {
  // Every message, encoded, before it is sent; an error cancels the send and is returned.
  std::function<Status(const wire::Body& body, const std::string& encoded)> before_send;
  // A send that the transport failed (after before_send accepted it).
  std::function<void(const wire::Body& body, const std::string& encoded, const std::string& why)>
      send_failed;
  // Every decoded message from the coordinator.
  std::function<void(const wire::Message& m, size_t bytes)> received;
  // The site's Hello.
  std::function<wire::Hello()> hello;
  // An accepted Welcome: "" to take part, else why the site declines the run for now (sent as
  // a Refusal of task 0; the site stays connected).
  std::function<std::string(const wire::Welcome& w)> welcomed;
  // The plan hash waiting for this site's approval ("" when none), sent with every heartbeat so
  // that the coordinator waits for the approval rather than counting refusals.
  std::function<std::string()> pending_plan;
};

class SiteConnection {
 public:
  SiteConnection(SiteTransport& transport, std::string coordinator,
                 std::chrono::milliseconds heartbeat, ConnectionHooks hooks);

  Status Send(wire::Body body, std::chrono::milliseconds timeout);
  // Says hello unless introduced. False while the coordinator is unreachable (the send timed
  // out); other send errors are returned.
  Result<bool> EnsureIntroduced();
  // Sends a heartbeat when one is due.
  void Beat();
  // Waits up to min(200 ms, heartbeat / 2) for one message. Handles Welcome (a refusal is
  // kPermissionDenied), UnknownSite errors (hello again), other errors (logged) and Goodbye
  // (finished() turns true); returns anything else.
  Result<std::optional<wire::Message>> Receive();

  bool finished() const { return finished_; }
  // After a Goodbye: forget the run and say hello again (to the next run's coordinator).
  void Rejoin();
  const std::string& run_id() const { return run_id_; }
  // Tasks carry the run id; replies must carry the same.
  void set_run_id(std::string run_id) { run_id_ = std::move(run_id); }

 private:
  using Clock = std::chrono::steady_clock;
  SiteTransport& transport_;
  const std::string coordinator_;
  std::chrono::milliseconds heartbeat_;
  ConnectionHooks hooks_;
  std::string run_id_;
  bool introduced_ = false;
  bool finished_ = false;
  uint64_t heartbeat_seq_ = 0;
  Clock::time_point last_heartbeat_ = Clock::now();
};

}  // namespace fedsmear
