// ZapAuthenticator: the ZeroMQ authentication handler (ZAP, RFC 27) of a CURVE server.
//
// Binds a REP socket to inproc://zeromq.zap.01 in the given context and answers authentication
// requests on its own thread: a CURVE client whose public key is in the allowlist is admitted and
// its site id becomes the connection's User-Id (read on the router with zmq_msg_gets(msg,
// "User-Id")); every other request is refused and logged with spdlog::warn (key prefix and peer
// address) and counted. At most one authenticator can run per context.
//
// Lifetime: the context must outlive the authenticator. Stop() (also run by the destructor) wakes
// the thread through an inproc control socket, joins it and closes both sockets; it never waits
// for a peer. Thread-safety: SetAllowedSites() and the counters may be called from any thread;
// Stop() and destruction from the owner only. Move-only; moving does not disturb the thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>
#include <zmq.hpp>

#include "common/net/keys.h"
#include "common/status.h"

namespace fedsmear {

class ZapAuthenticator {
 public:
  // Starts the handler thread. kUnavailable if another ZAP handler is bound in `context`.
  static Result<ZapAuthenticator> Start(zmq::context_t& context, std::vector<AllowedSite> sites);

  ZapAuthenticator(ZapAuthenticator&&) noexcept;
  ZapAuthenticator& operator=(ZapAuthenticator&&) noexcept;
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;
  ~ZapAuthenticator();

  // Replaces the allowlist; connections already admitted stay connected.
  void SetAllowedSites(std::vector<AllowedSite> sites);

  uint64_t accepted() const;  // handshakes admitted so far
  uint64_t refused() const;   // handshakes refused so far (unknown key, wrong mechanism)
  // True once the thread stopped on a poll/receive error (logged): no site can connect any more.
  bool failed() const;

  // Idempotent.
  void Stop();

 private:
  struct State;  // defined in zap.cc
  explicit ZapAuthenticator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace fedsmear
