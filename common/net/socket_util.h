// Helpers shared by the endpoints and the ZAP handler (not part of the public API): zmq::error_t
// to Status, polling with a timeout, reading one logical message and discarding stray frames.
//
// Thread-safety: each function uses only the socket passed in, which the caller must own on the
// calling thread. None of them throws: zmq::error_t is converted here.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/status.h"

namespace fedsmear::net_internal {

// Maps errno values of libzmq to StatusCodes (EHOSTUNREACH -> kUnavailable, EAGAIN -> kTimeout,
// ETERM -> kAborted, EADDRINUSE -> kUnavailable, EINVAL/EPROTONOSUPPORT -> kInvalidArgument).
Status ZmqStatus(int err, const std::string& what);
inline Status ZmqStatus(const zmq::error_t& e, const std::string& what) {
  return ZmqStatus(e.num(), what);
}

// Waits until `socket` is readable. false: the timeout passed. EINTR restarts the wait.
Result<bool> PollIn(zmq::socket_t& socket, std::chrono::milliseconds timeout);

// Reads every frame of the next message without blocking; empty vector if none is ready.
Result<std::vector<zmq::message_t>> RecvAllFrames(zmq::socket_t& socket);

// Metadata property of a received frame ("User-Id", "Peer-Address"), "" when absent.
std::string FrameProperty(zmq::message_t& frame, const char* name);

// Sets the option, converting failures to kInvalidArgument naming it.
template <typename Opt, typename T>
Status SetOption(zmq::socket_t& socket, Opt opt, const T& value, const char* name) {
  try {
    socket.set(opt, value);
  } catch (const zmq::error_t& e) {
    return ZmqStatus(e, std::string("setting ") + name);
  }
  return Status::Ok();
}

// Milliseconds as the int libzmq options take, clamped to [-1, INT_MAX].
int ClampMs(std::chrono::milliseconds ms);

// The options every endpoint sets: linger, maximum message size, no receive queue limit (see
// the .cc: a libzmq abort), and ZeroMQ heartbeats (PING every `heartbeat_ivl`; a connection
// silent for `heartbeat_timeout` is closed).
Status SetCommonOptions(zmq::socket_t& socket, std::chrono::milliseconds linger,
                        int64_t max_message_bytes, std::chrono::milliseconds heartbeat_ivl,
                        std::chrono::milliseconds heartbeat_timeout);

}  // namespace fedsmear::net_internal
