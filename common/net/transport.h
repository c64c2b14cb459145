// Transport: how the coordinator and the sites exchange single-frame messages, independent of
// the medium. Two implementations: ZeroMQ/CurveZMQ (RouterEndpoint, DealerEndpoint in
// common/net/router.h and dealer.h) for deployments, and an in-process hub
// (common/net/inproc_transport.h) for unit tests of the round logic and for simulations of
// many sites in one process.
//
// ServerTransport (the coordinator's side) talks to many peers. A peer is one connection: a
// site that reconnects gets a new peer id, so callers key their state on the site id. When the
// transport authenticates its peers, Incoming::site_id is the authenticated site id (it cannot
// be forged by message contents); otherwise it is empty and the caller takes the id from the
// message (Hello). SiteTransport (a site's side) talks to the one coordinator.
//
// Timeouts are values: Receive returns std::nullopt when nothing arrived within the timeout.
// Errors: ServerTransport::Send to a peer that is gone is kUnavailable, to one whose queue stays
// full is kTimeout; SiteTransport::Send with no accepting coordinator is kTimeout. Receive
// errors (kUnavailable) are fatal for the caller (e.g. the authenticator failed).
//
// Thread-safety: each endpoint object is used by one thread at a time (the ZeroMQ sockets are
// not thread-safe); the in-process hub's endpoints may live on different threads. Ownership:
// the interfaces own nothing; implementations own their sockets/queues.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace fedsmear {

struct Incoming {
  std::string peer_id;       // the connection; pass to Send() to answer
  std::string site_id;       // authenticated site id, "" when the transport does not authenticate
  std::string peer_address;  // where the peer is (IP, or "inproc"), for logs
  std::string bytes;         // the message
};

class ServerTransport {
 public:
  virtual ~ServerTransport() = default;
  ServerTransport(const ServerTransport&) = delete;
  ServerTransport& operator=(const ServerTransport&) = delete;

  // A printable address of this endpoint (the bound tcp:// endpoint, or "inproc://...").
  virtual const std::string& endpoint() const = 0;
  // Waits up to `timeout` for one message; std::nullopt when none arrived.
  virtual Result<std::optional<Incoming>> Receive(std::chrono::milliseconds timeout) = 0;
  // Sends one message to a peer. kUnavailable: the peer is gone; kTimeout: its queue is full.
  virtual Status Send(std::string_view peer_id, std::string_view bytes,
                      std::chrono::milliseconds timeout) = 0;

 protected:
  ServerTransport() = default;
  ServerTransport(ServerTransport&&) = default;
  ServerTransport& operator=(ServerTransport&&) = default;
};

class SiteTransport {
 public:
  virtual ~SiteTransport() = default;
  SiteTransport(const SiteTransport&) = delete;
  SiteTransport& operator=(const SiteTransport&) = delete;

  // kTimeout when no coordinator accepted the message within `timeout`.
  virtual Status Send(std::string_view bytes, std::chrono::milliseconds timeout) = 0;
  // Waits up to `timeout`; std::nullopt when nothing arrived.
  virtual Result<std::optional<std::string>> Receive(std::chrono::milliseconds timeout) = 0;

 protected:
  SiteTransport() = default;
  SiteTransport(SiteTransport&&) = default;
  SiteTransport& operator=(SiteTransport&&) = default;
};

}  // namespace fedsmear
