// DealerEndpoint: a hospital site's side of the transport, a ZeroMQ DEALER socket.
//
// Connects out to the coordinator only (sites never listen). ZeroMQ reconnects by itself with
// exponential backoff from reconnect_ivl to reconnect_ivl_max, so a coordinator restart needs no
// action here. In secure mode the socket is a CURVE client that pins the coordinator's public key:
// a coordinator with another key never completes the handshake. ZMQ_IMMEDIATE is set, so Send()
// does not queue messages while no authenticated connection exists: it waits up to its timeout
// and then reports kTimeout ("coordinator unreachable"). Frames above max_message_bytes from the
// coordinator are dropped by libzmq.
//
// libzmq never retries a connection whose handshake the server refused (unknown key: ZAP 400).
// A socket monitor watches for handshake failures; the endpoint then records the reason (see
// last_failure(), also appended to Send's timeout message) and rebuilds its socket after
// reconnect_ivl_max, so a site whose key is added to the allowlist later connects without a
// restart. Send and Receive wait in slices of at most 100 ms to do this bookkeeping.
//
// Implements SiteTransport (common/net/transport.h).
// Thread-safety: one thread at a time. Ownership: move-only; owns its context and socket;
// destruction closes them with a bounded linger, so shutdown never hangs on an absent peer.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/net/keys.h"
#include "common/net/transport.h"
#include "common/status.h"

namespace fedsmear {

struct DealerOptions {
  std::string endpoint = "tcp://127.0.0.1:7878";
  bool insecure = false;           // plain TCP, no authentication
  KeyPair client_keys;             // the site's key pair (secure mode)
  std::string server_public_key;   // the coordinator's public key, pinned (secure mode)
  int64_t max_message_bytes = int64_t{256} << 20;
  std::chrono::milliseconds reconnect_ivl{100};
  std::chrono::milliseconds reconnect_ivl_max{5000};
  std::chrono::milliseconds linger{500};
  // ZeroMQ-level PINGs: a connection silent for heartbeat_timeout (a pulled cable, a dropped
  // NAT entry, a disconnected container) is closed, and the dealer side reconnects.
  std::chrono::milliseconds heartbeat_ivl{2000};
  std::chrono::milliseconds heartbeat_timeout{15000};
};


class DealerEndpoint final : public SiteTransport {
 public:
  // Starts connecting in the background; succeeds even while the coordinator is down.
  static Result<DealerEndpoint> Connect(const DealerOptions& options);

  DealerEndpoint(DealerEndpoint&&) noexcept;
  DealerEndpoint& operator=(DealerEndpoint&&) noexcept;
  DealerEndpoint(const DealerEndpoint&) = delete;
  DealerEndpoint& operator=(const DealerEndpoint&) = delete;
  ~DealerEndpoint() override;

  const std::string& endpoint() const;

  // kTimeout when no connection accepted the message within `timeout`.
  Status Send(std::string_view bytes, std::chrono::milliseconds timeout) override;

  // Waits up to `timeout`; std::nullopt when nothing arrived.
  Result<std::optional<std::string>> Receive(std::chrono::milliseconds timeout) override;

  // Handshakes that failed so far (refused key, wrong coordinator key, mechanism mismatch).
  uint64_t handshake_failures() const;
  // Handshakes that succeeded (the coordinator accepted this site's key and proved its own).
  // Updated while Send/Receive run.
  uint64_t handshake_successes() const;
  // Why the last handshake failed ("" if none has).
  const std::string& last_failure() const;

 private:
  struct State;
  explicit DealerEndpoint(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace fedsmear
