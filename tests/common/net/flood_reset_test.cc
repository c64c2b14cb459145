// A peer that fills an endpoint's receive queue and then resets its TCP connection must not
// bring the process down. libzmq 4.3.4 (Debian 12; unchanged in 4.3.5) aborts with
// "Assertion failed: !_io_error (src/stream_engine_base.cpp:331)" when a connection whose input
// was stopped by a full receive queue (ZMQ_RCVHWM) sees a reset and then writes a heartbeat PING
// or answers a PING (libzmq issue 4841). A site with an allowlisted key, or a coordinator a site
// trusts, could do this on purpose; a dying container under load did it by accident.
// The peer here is a raw TCP socket speaking ZMTP 3 with the NULL mechanism (insecure
// endpoints), so the reset is deterministic (SO_LINGER 0). Every wait is bounded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "common/net/dealer.h"
#include "common/net/router.h"

namespace fedsmear {
namespace {

using namespace std::chrono_literals;

constexpr int kFlood = 5000;  // messages: five times libzmq's default receive queue

// One end of a raw TCP connection speaking just enough ZMTP 3.0 (NULL mechanism).
class RawZmtpPeer {
 public:
  explicit RawZmtpPeer(int fd) : fd_(fd) {}
  RawZmtpPeer(const RawZmtpPeer&) = delete;
  RawZmtpPeer& operator=(const RawZmtpPeer&) = delete;
  ~RawZmtpPeer() {
    if (fd_ >= 0) close(fd_);
  }

  // Greeting and READY both ways; `socket_type` is what this end claims to be.
  bool Handshake(const std::string& socket_type) {
    std::string greeting(64, '\0');
    greeting[0] = '\xff';
    greeting[9] = '\x7f';
    greeting[10] = 3;  // ZMTP 3.0
    greeting.replace(12, 4, "NULL");
    if (!SendAll(greeting) || !ReadExactly(64)) return false;
    std::string ready = "\x05READY";
    ready += static_cast<char>(11);
    ready += "Socket-Type";
    ready += std::string("\0\0\0", 3) + static_cast<char>(socket_type.size()) + socket_type;
    if (!SendAll(Command(ready))) return false;
    // The other side's READY: a command frame (flags 0x04) with a one-byte size.
    std::string head;
    if (!ReadExactly(2, &head) || head[0] != '\x04') return false;
    return ReadExactly(static_cast<unsigned char>(head[1]));
  }

  // kFlood short messages, each followed by a PING command (which the receiver must answer).
  bool Flood() {
    std::string chunk;
    for (int i = 0; i < kFlood; ++i) {
      chunk += std::string(1, '\0') + static_cast<char>(5) + "flood";
      chunk += Command(std::string("\x04PING\x00\x00", 7));
    }
    return SendAll(chunk);
  }

  // One single-frame message (short frame, no MORE flag).
  bool SendMessage(const std::string& body) {
    return SendAll(std::string(1, '\0') + static_cast<char>(body.size()) + body);
  }

  // Closes with SO_LINGER 0: the kernel sends a TCP reset instead of a FIN.
  void Reset() {
    linger l{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd_);
    fd_ = -1;
  }

 private:
  static std::string Command(const std::string& body) {
    return std::string(1, '\x04') + static_cast<char>(body.size()) + body;
  }
  bool SendAll(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      pollfd p{fd_, POLLOUT, 0};
      if (poll(&p, 1, 5000) <= 0) return false;
      const ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  bool ReadExactly(size_t n, std::string* out = nullptr) {
    std::string buf(n, '\0');
    size_t done = 0;
    while (done < n) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) return false;
      const ssize_t got = recv(fd_, buf.data() + done, n - done, 0);
      if (got <= 0) return false;
      done += static_cast<size_t>(got);
    }
    if (out) *out = std::move(buf);
    return true;
  }

  int fd_;
};

int PortOf(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

int ConnectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(FloodResetTest, RouterSurvivesASiteThatFillsItsQueueAndResets) {
  RouterOptions options;
  options.endpoint = "tcp://127.0.0.1:*";
  options.insecure = true;
  options.linger = 0ms;
  options.heartbeat_ivl = 50ms;  // the PING timer that used to hit the assertion
  auto router = RouterEndpoint::Bind(options);
  ASSERT_TRUE(router.ok()) << router.status();

  {
    RawZmtpPeer flooder(ConnectTo(PortOf(router->endpoint())));
    ASSERT_TRUE(flooder.Handshake("DEALER"));
    ASSERT_TRUE(flooder.Flood());
    std::this_thread::sleep_for(1s);  // the router's I/O thread takes in what it can
    flooder.Reset();
  }
  std::this_thread::sleep_for(500ms);  // several heartbeat intervals after the reset

  // What arrived before the reset is still delivered: more than libzmq's default queue of 1,000
  // (all of it unless the machine is too loaded for the I/O thread to read 70 KB in a second).
  int received = 0;
  while (true) {
    auto in = router->Receive(200ms);
    ASSERT_TRUE(in.ok()) << in.status();
    if (!in->has_value()) break;
    EXPECT_EQ((*in)->bytes, "flood");
    ++received;
  }
  EXPECT_GT(received, 1000);
  EXPECT_LE(received, kFlood);

  // And the router still serves an honest site.
  DealerOptions site;
  site.endpoint = router->endpoint();
  site.insecure = true;
  site.linger = 0ms;
  auto dealer = DealerEndpoint::Connect(site);
  ASSERT_TRUE(dealer.ok()) << dealer.status();
  ASSERT_TRUE(dealer->Send("hello", 5s).ok());
  auto in = router->Receive(5s);
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_TRUE(in->has_value());
  EXPECT_EQ((*in)->bytes, "hello");
}

TEST(FloodResetTest, SiteSurvivesACoordinatorThatFillsItsQueueAndResets) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);

  DealerOptions options;
  options.endpoint = "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  options.insecure = true;
  options.linger = 0ms;
  options.heartbeat_ivl = 50ms;
  auto dealer = DealerEndpoint::Connect(options);
  ASSERT_TRUE(dealer.ok()) << dealer.status();

  pollfd p{listener, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1);
  {
    RawZmtpPeer coordinator(accept(listener, nullptr, nullptr));
    ASSERT_TRUE(coordinator.Handshake("ROUTER"));
    ASSERT_TRUE(coordinator.Flood());
    std::this_thread::sleep_for(1s);
    coordinator.Reset();
  }
  std::this_thread::sleep_for(500ms);
  // The dealer drops what the reset connection had queued (ZMQ_IMMEDIATE discards a broken
  // connection's pipe): nothing from it may be trusted to be complete anyway.
  auto stale = dealer->Receive(100ms);
  ASSERT_TRUE(stale.ok()) << stale.status();

  // The site is alive and reconnects to the coordinator's address by itself.
  p = pollfd{listener, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1);
  RawZmtpPeer coordinator(accept(listener, nullptr, nullptr));
  close(listener);
  ASSERT_TRUE(coordinator.Handshake("ROUTER"));
  ASSERT_TRUE(coordinator.SendMessage("welcome back"));
  bool welcomed = false;
  for (int i = 0; i < kFlood + 1 && !welcomed; ++i) {
    auto in = dealer->Receive(2s);
    ASSERT_TRUE(in.ok()) << in.status();
    ASSERT_TRUE(in->has_value()) << "the site received nothing after reconnecting";
    welcomed = **in == "welcome back";
  }
  EXPECT_TRUE(welcomed);
}

}  // namespace
}  // namespace fedsmear
