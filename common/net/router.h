// RouterEndpoint: the coordinator's side of the transport, a ZeroMQ ROUTER socket.
//
// Binds one endpoint and exchanges single-frame messages with many sites, each addressed by the
// routing identity ZeroMQ gave its connection (Incoming::peer_id; a reconnecting site gets a new
// one, so key state on site_id). In secure mode the socket is a CURVE server and a
// ZapAuthenticator admits only allowlisted site keys; Incoming::site_id is then the authenticated
// site id from the connection metadata and cannot be forged by message contents. In insecure mode
// (plain TCP, only when RouterOptions::insecure is set) site_id is empty and the caller must take
// the site id from the Hello message.
//
// Limits: frames above max_message_bytes are dropped by libzmq (the sending connection is closed;
// the router keeps serving others). Sending to a peer that is gone is kUnavailable
// (ZMQ_ROUTER_MANDATORY); a peer whose queue stays full past the timeout is kTimeout. Receive
// timeouts are values (std::nullopt), not errors.
//
// Implements ServerTransport (common/net/transport.h).
// Thread-safety: one thread at a time (ZeroMQ sockets are not thread-safe); the auth counters may
// be read from any thread. Ownership: move-only; owns its context, socket and ZAP thread, and
// destruction closes them with a bounded linger.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/net/keys.h"
#include "common/net/transport.h"
#include "common/status.h"

namespace fedsmear {

struct RouterOptions {
  std::string endpoint = "tcp://127.0.0.1:7878";  // "tcp://127.0.0.1:*" picks a free port
  bool insecure = false;                          // plain TCP, no authentication
  KeyPair server_keys;                            // required unless insecure
  std::vector<AllowedSite> allowed_sites;         // site keys admitted (secure mode)
  std::string allowed_sites_file;                 // when set: read from here instead of
                                                  // allowed_sites, and reloaded on change
  int64_t max_message_bytes = int64_t{256} << 20;
  std::chrono::milliseconds linger{500};          // how long close() may flush unsent data
  // ZeroMQ-level PINGs: a connection silent for heartbeat_timeout (a pulled cable, a dropped
  // NAT entry, a disconnected container) is closed, and the dealer side reconnects.
  std::chrono::milliseconds heartbeat_ivl{2000};
  std::chrono::milliseconds heartbeat_timeout{15000};
};


// Incoming (common/net/transport.h): peer_id is the ZeroMQ routing identity, site_id the
// authenticated site id (secure mode, "" in insecure mode), peer_address the remote IP.
class RouterEndpoint final : public ServerTransport {
 public:
  static Result<RouterEndpoint> Bind(const RouterOptions& options);

  RouterEndpoint(RouterEndpoint&&) noexcept;
  RouterEndpoint& operator=(RouterEndpoint&&) noexcept;
  RouterEndpoint(const RouterEndpoint&) = delete;
  RouterEndpoint& operator=(const RouterEndpoint&) = delete;
  ~RouterEndpoint() override;

  // The bound endpoint with the actual port (ZMQ_LAST_ENDPOINT).
  const std::string& endpoint() const override;
  bool secure() const;

  // Waits up to `timeout` for one message; std::nullopt when none arrived. Malformed multi-frame
  // messages are discarded and the wait continues. kUnavailable once the ZAP handler has failed
  // (the coordinator then stops with that reason instead of silently admitting no one).
  Result<std::optional<Incoming>> Receive(std::chrono::milliseconds timeout) override;

  // Sends one message to a connected peer. kUnavailable: the peer is not connected;
  // kTimeout: its queue stayed full for `timeout`.
  Status Send(std::string_view peer_id, std::string_view bytes,
              std::chrono::milliseconds timeout) override;
  Status Send(std::string_view peer_id, std::string_view bytes) {
    return Send(peer_id, bytes, std::chrono::seconds(5));
  }

  // Replaces the allowlist (secure mode); established connections are kept.
  void SetAllowedSites(std::vector<AllowedSite> sites);

  uint64_t auth_accepted() const;  // CURVE handshakes admitted by the allowlist
  uint64_t auth_refused() const;   // handshakes refused (unknown key, wrong mechanism)
  uint64_t allowlist_reloads() const;  // times the allowlist file was read again after a change
  uint64_t revoked_dropped() const;    // messages dropped: their site or key is no longer listed

 private:
  struct State;
  explicit RouterEndpoint(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace fedsmear
