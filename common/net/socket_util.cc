// zmq::error_t -> Status, polling and frame reading shared by the endpoints.
#include "common/net/socket_util.h"

#include <cerrno>
#include <algorithm>
#include <climits>

namespace fedsmear::net_internal {

Status ZmqStatus(int err, const std::string& what) {
  const std::string msg = what + ": " + zmq_strerror(err);
  switch (err) {
    case EHOSTUNREACH:
    case EADDRINUSE:
    case EADDRNOTAVAIL:
    case ECONNREFUSED:
      return Unavailable(msg);
    case EAGAIN:
      return Timeout(msg);
    case ETERM:
    case EINTR:
      return Aborted(msg);
    case EINVAL:
    case EPROTONOSUPPORT:
    case ENOCOMPATPROTO:
    case ENODEV:
      return InvalidArgument(msg);
    case EMSGSIZE:
      return ResourceExhausted(msg);
    default:
      return Internal(msg);
  }
}

Status SetCommonOptions(zmq::socket_t& s, std::chrono::milliseconds linger,
                        int64_t max_message_bytes, std::chrono::milliseconds heartbeat_ivl,
                        std::chrono::milliseconds heartbeat_timeout) {
  RETURN_IF_ERROR(SetOption(s, zmq::sockopt::linger, ClampMs(linger), "ZMQ_LINGER"));
  RETURN_IF_ERROR(SetOption(s, zmq::sockopt::maxmsgsize, max_message_bytes, "ZMQ_MAXMSGSIZE"));
  // No receive queue limit. libzmq (4.3.4 here, unchanged in 4.3.5 and master; issue 4841)
  // aborts the whole process, "Assertion failed: !_io_error (stream_engine_base.cpp:331)", when a
  // connection whose input a full receive queue stopped is reset by its peer and then sends a
  // heartbeat PING or answers one. A peer that floods and resets could do that on purpose
  // (tests/common/net/flood_reset_test.cc). Without the limit input never stops; memory stays
  // bounded per message by ZMQ_MAXMSGSIZE (docs/security.md, attack 6).
  RETURN_IF_ERROR(SetOption(s, zmq::sockopt::rcvhwm, 0, "ZMQ_RCVHWM"));
  RETURN_IF_ERROR(
      SetOption(s, zmq::sockopt::heartbeat_ivl, ClampMs(heartbeat_ivl), "ZMQ_HEARTBEAT_IVL"));
  return SetOption(s, zmq::sockopt::heartbeat_timeout, ClampMs(heartbeat_timeout),
                   "ZMQ_HEARTBEAT_TIMEOUT");
}

int ClampMs(std::chrono::milliseconds ms) {
  if (ms.count() < 0) return -1;
  if (ms.count() > INT_MAX) return INT_MAX;
  return static_cast<int>(ms.count());
}

Result<bool> PollIn(zmq::socket_t& socket, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const int rc = zmq_poll(&item, 1, std::max<long>(0, left.count()));
    if (rc < 0) {
      if (zmq_errno() == EINTR) continue;
      return ZmqStatus(zmq_errno(), "polling socket");
    }
    return (item.revents & ZMQ_POLLIN) != 0;
  }
}

Result<std::vector<zmq::message_t>> RecvAllFrames(zmq::socket_t& socket) {
  std::vector<zmq::message_t> frames;
  try {
    while (true) {
      zmq::message_t frame;
      // Later frames of a message are already complete when the first is readable.
      const auto flags = frames.empty() ? zmq::recv_flags::dontwait : zmq::recv_flags::none;
      if (!socket.recv(frame, flags)) break;  // EAGAIN: nothing ready
      const bool more = frame.more();
      frames.push_back(std::move(frame));
      if (!more) break;
    }
  } catch (const zmq::error_t& e) {
    return ZmqStatus(e, "receiving");
  }
  return frames;
}

std::string FrameProperty(zmq::message_t& frame, const char* name) {
  const char* value = zmq_msg_gets(frame.handle(), name);
  return value ? std::string(value) : std::string();
}

}  // namespace fedsmear::net_internal
