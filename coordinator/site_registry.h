// SiteRegistry: the coordinator's view of the sites, over a ServerTransport
// (common/net/transport.h): who joined, on which connection, when each was last heard, and the
// message pump that keeps it current.
//
// Pump() receives one message and handles the connection traffic itself: a Hello is checked
// (authenticated id, valid id, classes) and answered with a Welcome, a repeated Hello on a new
// connection replaces the old one (on the same one it only refreshes last-seen), a known site
// authenticated on a new connection (its network came back) is adopted, heartbeats only
// refresh last-seen (and say whether the site's approval of the plan is pending: such a site is
// not Live until it approves), a message from an unknown connection gets "say hello first", and a
// connection whose Welcome could not be delivered is muted (its messages are ignored, so a
// flood costs one send timeout, not one per message).
// Everything else from a known site, for this run, goes to the caller's handler: round traffic
// (updates, stage messages, refusals, errors, evaluation results).
// A site is silent when nothing came from it for 3 heartbeat intervals; its weight is its
// hello's training-set size in 1..max_site_samples (the one source of weights for every round).
//
// Thread-safety: one thread (the coordinator's run loop). Ownership: borrows the transport and
// the observer's targets, which must outlive it; owns the site records.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/net/transport.h"
#include "common/status.h"
#include "common/wire/messages.h"
#include "coordinator/strategy.h"

namespace fedsmear {

struct SiteRegistryOptions {
  std::string run_id;
  double heartbeat_s = 5;          // sites beat this often; silent after 3 intervals
  int64_t max_site_samples = 1 << 20;
  uint64_t max_message_bytes = uint64_t{256} << 20;  // wire decoding limit
  bool require_class_names = false;  // refuse a hello without classes
  std::string plan_bytes;          // the training plan, sent in every Welcome
  std::string plan_hash;
  std::chrono::milliseconds send_timeout{10000};  // Send(): tasks and stage messages
};

// Optional hooks (audit log, live status); any may be empty.
struct SiteRegistryObserver {
  // kind: "sent" | "received"; heartbeats are not reported.
  std::function<void(const char* kind, const std::string& site, const wire::Body& body,
                     const std::string& encoded)>
      message;
  std::function<void(const std::string& site, const std::string& reason)> refused;
  std::function<void(const std::string& site, const SiteInfo& info)> joined;
  std::function<void(const std::string& site)> seen;
};

class SiteRegistry {
 public:
  using Clock = std::chrono::steady_clock;
  // Round traffic from a known site: (site id, message, encoded size).
  using Handler = std::function<void(const std::string& site, wire::Message& m, size_t bytes)>;

  SiteRegistry(ServerTransport& transport, SiteRegistryOptions options,
               SiteRegistryObserver observer = {});

  // Receives for up to `timeout`; true when a message arrived. Errors: the transport's.
  Result<bool> Pump(std::chrono::milliseconds timeout, const Handler& on_round);
  // Handles everything already queued (round traffic goes to a handler that logs and drops it).
  Status DrainQueued();
  // Sends `body` to a registered site; `bytes` receives the encoded size.
  Status Send(const std::string& site_id, wire::Body body, uint64_t* bytes = nullptr);

  // Sites heard from lately whose approval of the plan is not pending: those a round can use.
  std::vector<SiteInfo> Live() const;
  // Sites heard from lately that wait for their approval of the plan: site id -> plan hash.
  std::map<std::string, std::string> PendingApproval() const;
  bool IsSilent(const std::string& site_id) const;
  uint64_t Weight(const std::string& site_id) const;
  std::vector<std::string> Ids() const;  // every site that ever joined, in id order
  size_t size() const { return sites_.size(); }
  const std::string& run_id() const { return options_.run_id; }

 private:
  struct Record {
    std::string peer_id;
    SiteInfo info;
    Clock::time_point last_seen;
    uint64_t repeated_hellos = 0;  // on the connection already welcomed (ignored)
    std::string pending_plan;      // the plan hash its last heartbeat says awaits approval
  };
  void OnHello(const Incoming& in, const wire::Message& msg, const wire::Hello& hello);
  // The site of a connection ("" when unknown); adopts a known site's new authenticated one.
  std::string SiteOf(const Incoming& in);
  void SendRaw(const std::string& peer_id, const wire::Body& body);

  ServerTransport& transport_;
  SiteRegistryOptions options_;
  SiteRegistryObserver observer_;
  std::map<std::string, Record> sites_;           // by site id
  std::map<std::string, std::string> peer_sites_;  // peer id -> site id
  std::set<std::string> muted_peers_;
};

}  // namespace fedsmear
