// TcpRelay: a loopback TCP relay whose connections can be cut, so that a simulated site can lose
// its network without its process noticing anything but the network.
//
// The relay listens on 127.0.0.1:`listen_port` and copies bytes both ways to `target_port`. While
// cut it closes every open connection and closes new ones at once (the peer sees a reset, as
// after a pulled cable and a firewall drop); afterwards connections are relayed again, so
// ZeroMQ's automatic reconnect brings the site back.
// Thread-safety: Cut() may be called from any thread; the relay runs one thread of its own.
// Ownership: move-free (held by unique_ptr); the destructor stops the thread and closes sockets.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <memory>
#include <thread>

#include "common/status.h"

namespace fedsmear {

// 127.0.0.1:port as a socket address.
sockaddr_in LoopbackAddress(int port);

class TcpRelay {
 public:
  static Result<std::unique_ptr<TcpRelay>> Start(int listen_port, int target_port);
  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  void Cut(bool cut);
  int port() const { return port_; }

 private:
  TcpRelay(int listen_fd, int port, int target_port, int wake_read, int wake_write);
  void Loop();

  int listen_fd_;
  int port_;
  int target_port_;
  int wake_read_, wake_write_;  // a pipe that interrupts poll()
  std::atomic<bool> cut_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace fedsmear
