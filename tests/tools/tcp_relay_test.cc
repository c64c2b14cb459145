#include "tools/tcp_relay.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

namespace fedsmear {
namespace {

// A loopback server that echoes what each connection sends, one connection at a time.
class EchoServer {
 public:
  EchoServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = LoopbackAddress(0);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        char buf[256];
        ssize_t n;
        while ((n = ::read(c, buf, sizeof(buf))) > 0) (void)!::send(c, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~EchoServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = LoopbackAddress(port);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

// Sends `text` and returns what comes back ("" when the connection was closed).
std::string RoundTrip(int fd, const std::string& text) {
  if (::send(fd, text.data(), text.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(text.size())) {
    return "";
  }
  std::string got;
  char buf[256];
  while (got.size() < text.size()) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

TEST(TcpRelayTest, RelaysThenCutsThenRelaysAgain) {
  EchoServer echo;
  auto relay = TcpRelay::Start(0, echo.port());
  ASSERT_TRUE(relay.ok()) << relay.status();
  ASSERT_GT((*relay)->port(), 0);

  int a = Connect((*relay)->port());
  EXPECT_EQ(RoundTrip(a, "hello"), "hello");

  (*relay)->Cut(true);
  char byte;
  EXPECT_EQ(::read(a, &byte, 1), 0) << "an open connection is closed by the cut";
  ::close(a);
  int b = Connect((*relay)->port());  // the listener still accepts, then hangs up at once
  EXPECT_EQ(RoundTrip(b, "lost"), "");
  ::close(b);

  (*relay)->Cut(false);
  int c = Connect((*relay)->port());
  EXPECT_EQ(RoundTrip(c, std::string(100, 'x')), std::string(100, 'x'));
  ::close(c);
}

TEST(TcpRelayTest, BusyPortIsAnError) {
  EchoServer echo;
  auto relay = TcpRelay::Start(echo.port(), echo.port());
  ASSERT_FALSE(relay.ok());
  EXPECT_NE(relay.status().message().find(std::to_string(echo.port())), std::string::npos);
}

}  // namespace
}  // namespace fedsmear
