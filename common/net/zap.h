// ZapAuthenticator: the ZeroMQ authentication handler (ZAP, RFC 27) of a CURVE server.
//
// Binds a REP socket to inproc://zeromq.zap.01 in the given context and answers authentication
// requests on its own thread: a CURVE client whose public key is in the allowlist is admitted and
// its site id becomes the connection's User-Id (read on the router with zmq_msg_gets(msg,
// "User-Id")) and its Z85 key the connection's "X-Curve-Key" property; every other request is
// refused and logged with spdlog::warn (key prefix and peer address) and counted. At most one
// authenticator can run per context.
//
// Reload: started with the allowlist's path, the authenticator reads the file again whenever its
// inode, size, modification or change time differ from the last read. It checks before every
// authentication request, so a site added, rotated (its line replaced) or revoked (its line
// removed) is admitted or refused at its next connection attempt, without a restart; the router
// also checks while it receives (RouterEndpoint). A file that cannot be read or parsed leaves
// the previous list in force, and the error is logged once per change of the file.
//
// Lifetime: the context must outlive the authenticator. Stop() (also run by the destructor) wakes
// the thread through an inproc control socket, joins it and closes both sockets; it never waits
// for a peer. Thread-safety: SetAllowedSites(), MaybeReload(), Admits() and the counters may be
// called from any thread; Stop() and destruction from the owner only. Move-only; moving does
// not disturb the thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/net/keys.h"
#include "common/status.h"

namespace fedsmear {

class ZapAuthenticator {
 public:
  // Starts the handler thread. kUnavailable if another ZAP handler is bound in `context`. With
  // `allowlist_path`, the list is read from that file (its errors returned) instead of `sites`,
  // and read again when the file changes.
  static Result<ZapAuthenticator> Start(zmq::context_t& context, std::vector<AllowedSite> sites,
                                        std::string allowlist_path = "");

  ZapAuthenticator(ZapAuthenticator&&) noexcept;
  ZapAuthenticator& operator=(ZapAuthenticator&&) noexcept;
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;
  ~ZapAuthenticator();

  // Replaces the allowlist; connections already admitted stay connected.
  void SetAllowedSites(std::vector<AllowedSite> sites);

  // Reads the allowlist file again when it changed since the last read (see above). True when
  // the list in force was replaced. No-op without a path.
  bool MaybeReload();
  // True when `site_id` is listed now with the key `public_key_z85`: false once its line was
  // removed or its key replaced, which RouterEndpoint uses to drop a revoked connection's messages.
  bool Admits(const std::string& site_id, const std::string& public_key_z85) const;
  uint64_t reloads() const;   // times the list was replaced from the file

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
