// InprocHub: the Transport (common/net/transport.h) inside one process, for unit tests of the
// round logic without sockets and for simulations of many sites on threads.
//
// One hub serves one coordinator endpoint (Serve) and any number of site connections
// (Connect). The hub authenticates: Incoming::site_id is the id a connection was opened with,
// like CurveZMQ's allowlist. Every Connect is a new connection with a new peer id, so calling it
// again for a site models a reconnection; destroying a site endpoint closes its connection
// (later sends to its peer id are kUnavailable, like ZMQ_ROUTER_MANDATORY). Queues are
// unbounded; frames above max_message_bytes are dropped, as libzmq does.
//
// Fault hooks for tests: a filter sees every message and may drop it; Kill cuts every open
// connection of a site (the coordinator's sends fail, the site's sends time out and nothing
// reaches it, as with a pulled cable); Revive reopens them under new peer ids, as ZeroMQ's
// reconnection does.
//
// Thread-safety: the hub and all its endpoints may be used from any threads at once; each
// endpoint object by one thread at a time. Ownership: endpoints share the hub's state, so they
// may outlive the InprocHub object; the hub owns the queues.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/net/transport.h"

namespace fedsmear {

struct InprocOptions {
  int64_t max_message_bytes = int64_t{256} << 20;  // larger frames are dropped
};

enum class InprocDirection { kToCoordinator, kToSite };

// Returns false to drop the message (it is counted in InprocHub::dropped()).
using InprocFilter =
    std::function<bool(InprocDirection, const std::string& site_id, std::string_view bytes)>;

class InprocHub {
 public:
  explicit InprocHub(InprocOptions options = {});
  ~InprocHub();
  InprocHub(const InprocHub&) = delete;
  InprocHub& operator=(const InprocHub&) = delete;

  // The coordinator's endpoint; at most one is open at a time (kFailedPrecondition otherwise).
  Result<std::unique_ptr<ServerTransport>> Serve();
  // A new authenticated connection for `site_id`.
  std::unique_ptr<SiteTransport> Connect(const std::string& site_id);

  // Replaces the filter (nullptr: deliver everything). Called with the hub's lock released.
  void SetFilter(InprocFilter filter);
  // Cuts every open connection of `site_id`.
  void Kill(const std::string& site_id);
  // Reopens the cut connections of `site_id`, each under a new peer id.
  void Revive(const std::string& site_id);

  uint64_t delivered() const;  // messages queued for their receiver
  uint64_t dropped() const;    // by the filter, the size cap, or a cut connection

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace fedsmear
