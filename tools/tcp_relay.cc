#include "tools/tcp_relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace fedsmear {
namespace {

// Copies what is readable on `from` to `to`; false when either side is done.
bool Pump(int from, int to) {
  char buf[64 * 1024];
  ssize_t n = ::read(from, buf, sizeof(buf));
  if (n <= 0) return false;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = ::send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += w;
  }
  return true;
}

}  // namespace

sockaddr_in LoopbackAddress(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

Result<std::unique_ptr<TcpRelay>> TcpRelay::Start(int listen_port, int target_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return IoError(std::string("socket(): ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a = LoopbackAddress(listen_port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd, 16) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd);
    return IoError("relay cannot listen on 127.0.0.1:" + std::to_string(listen_port) + ": " + why);
  }
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(fd);
    return IoError("relay cannot create its wake-up pipe");
  }
  return std::unique_ptr<TcpRelay>(
      new TcpRelay(fd, ntohs(a.sin_port), target_port, pipe_fds[0], pipe_fds[1]));
}

TcpRelay::TcpRelay(int listen_fd, int port, int target_port, int wake_read, int wake_write)
    : listen_fd_(listen_fd),
      port_(port),
      target_port_(target_port),
      wake_read_(wake_read),
      wake_write_(wake_write) {
  thread_ = std::thread([this] { Loop(); });
}

TcpRelay::~TcpRelay() {
  stop_ = true;
  (void)!::write(wake_write_, "x", 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_read_);
  ::close(wake_write_);
}

void TcpRelay::Cut(bool cut) {
  cut_ = cut;
  (void)!::write(wake_write_, "x", 1);
}

void TcpRelay::Loop() {
  struct Pair {
    int client, server;
  };
  std::vector<Pair> pairs;
  auto close_pair = [](const Pair& p) {
    ::close(p.client);
    ::close(p.server);
  };
  while (!stop_) {
    if (cut_) {
      for (const Pair& p : pairs) close_pair(p);
      pairs.clear();
    }
    std::vector<pollfd> fds = {{wake_read_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const Pair& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.server, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) break;
    if (fds[0].revents) {
      char drain[64];
      while (::read(wake_read_, drain, sizeof(drain)) > 0) {
      }
    }
    const size_t polled = pairs.size();
    if (fds[1].revents & POLLIN) {
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        int server = cut_ ? -1 : ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in t = LoopbackAddress(target_port_);
        if (server >= 0 && ::connect(server, reinterpret_cast<sockaddr*>(&t), sizeof(t)) == 0) {
          pairs.push_back({client, server});
        } else {
          if (server >= 0) ::close(server);
          ::close(client);
        }
      }
    }
    // Walk the pairs in the order they were polled; drop those whose either side ended.
    std::vector<Pair> alive(pairs.begin() + static_cast<std::ptrdiff_t>(polled), pairs.end());
    for (size_t i = 0; i < polled; ++i) {
      const pollfd& c = fds[2 + 2 * i];
      const pollfd& s = fds[3 + 2 * i];
      bool ok = true;
      if (c.revents & (POLLIN | POLLHUP | POLLERR)) ok = Pump(pairs[i].client, pairs[i].server);
      if (ok && (s.revents & (POLLIN | POLLHUP | POLLERR))) ok = Pump(pairs[i].server, pairs[i].client);
      if (ok) {
        alive.push_back(pairs[i]);
      } else {
        close_pair(pairs[i]);
      }
    }
    pairs.swap(alive);
  }
  for (const Pair& p : pairs) close_pair(p);
}

}  // namespace fedsmear
