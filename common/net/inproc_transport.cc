// InprocHub: queues behind one mutex; each connection and the coordinator wait on their own
// condition variable, so a thousand idle sites cost no CPU.
#include "common/net/inproc_transport.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

namespace fedsmear {
namespace {

using std::chrono::milliseconds;

struct Conn {
  std::string site_id;
  std::string peer_id;
  bool cut = false;
  std::deque<std::string> inbox;
  std::condition_variable cv;
};

}  // namespace

struct InprocHub::State {
  InprocOptions options;
  std::mutex mu;
  std::condition_variable server_cv;
  std::deque<Incoming> server_inbox;
  bool serving = false;
  std::map<std::string, std::shared_ptr<Conn>> peers;  // open connections by peer id
  uint64_t next_peer = 1;
  std::shared_ptr<const InprocFilter> filter;
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> dropped{0};
  const std::string endpoint = "inproc://fedsmear";

  std::string NewPeerId(const std::string& site_id) {
    return "inproc-" + std::to_string(next_peer++) + "-" + site_id;
  }

  // Whether the filter and the size cap let the message through (called unlocked).
  bool Admit(InprocDirection direction, const std::string& site_id, std::string_view bytes) {
    std::shared_ptr<const InprocFilter> f;
    {
      std::lock_guard<std::mutex> lock(mu);
      f = filter;
    }
    if (static_cast<int64_t>(bytes.size()) > options.max_message_bytes ||
        (f && *f && !(*f)(direction, site_id, bytes))) {
      dropped.fetch_add(1);
      return false;
    }
    return true;
  }
};

namespace {

class InprocServer final : public ServerTransport {
 public:
  explicit InprocServer(std::shared_ptr<InprocHub::State> state) : state_(std::move(state)) {}
  ~InprocServer() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->serving = false;
    state_->server_inbox.clear();
  }

  const std::string& endpoint() const override { return state_->endpoint; }

  Result<std::optional<Incoming>> Receive(milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(state_->mu);
    if (!state_->server_cv.wait_for(lock, timeout,
                                    [&] { return !state_->server_inbox.empty(); })) {
      return std::optional<Incoming>();
    }
    Incoming in = std::move(state_->server_inbox.front());
    state_->server_inbox.pop_front();
    return std::optional<Incoming>(std::move(in));
  }

  Status Send(std::string_view peer_id, std::string_view bytes, milliseconds) override {
    std::string site;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      auto it = state_->peers.find(std::string(peer_id));
      if (it == state_->peers.end() || it->second->cut) {
        return Unavailable("peer " + std::string(peer_id) + " is not connected");
      }
      site = it->second->site_id;
    }
    if (!state_->Admit(InprocDirection::kToSite, site, bytes)) return Status::Ok();
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->peers.find(std::string(peer_id));
    if (it == state_->peers.end() || it->second->cut) {
      return Unavailable("peer " + std::string(peer_id) + " is not connected");
    }
    it->second->inbox.emplace_back(bytes);
    it->second->cv.notify_one();
    state_->delivered.fetch_add(1);
    return Status::Ok();
  }

 private:
  std::shared_ptr<InprocHub::State> state_;
};

class InprocSite final : public SiteTransport {
 public:
  InprocSite(std::shared_ptr<InprocHub::State> state, std::shared_ptr<Conn> conn)
      : state_(std::move(state)), conn_(std::move(conn)) {}
  ~InprocSite() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->peers.erase(conn_->peer_id);
  }

  Status Send(std::string_view bytes, milliseconds timeout) override {
    {
      std::unique_lock<std::mutex> lock(state_->mu);
      if (conn_->cut || !state_->serving) {
        // No coordinator accepts the message: wait out the timeout, like ZMQ_IMMEDIATE.
        conn_->cv.wait_for(lock, timeout, [&] { return !conn_->cut && state_->serving; });
        if (conn_->cut || !state_->serving) return Timeout("coordinator unreachable (inproc)");
      }
    }
    if (!state_->Admit(InprocDirection::kToCoordinator, conn_->site_id, bytes)) {
      return Status::Ok();
    }
    std::lock_guard<std::mutex> lock(state_->mu);
    if (conn_->cut || !state_->serving) return Timeout("coordinator unreachable (inproc)");
    state_->server_inbox.push_back({conn_->peer_id, conn_->site_id, "inproc", std::string(bytes)});
    state_->server_cv.notify_one();
    state_->delivered.fetch_add(1);
    return Status::Ok();
  }

  Result<std::optional<std::string>> Receive(milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(state_->mu);
    if (!conn_->cv.wait_for(lock, timeout,
                            [&] { return !conn_->cut && !conn_->inbox.empty(); })) {
      return std::optional<std::string>();
    }
    std::string bytes = std::move(conn_->inbox.front());
    conn_->inbox.pop_front();
    return std::optional<std::string>(std::move(bytes));
  }

 private:
  std::shared_ptr<InprocHub::State> state_;
  std::shared_ptr<Conn> conn_;
};

}  // namespace

InprocHub::InprocHub(InprocOptions options) : state_(std::make_shared<State>()) {
  state_->options = options;
}
InprocHub::~InprocHub() = default;

Result<std::unique_ptr<ServerTransport>> InprocHub::Serve() {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->serving) return FailedPrecondition("the in-process hub already has a coordinator");
  state_->serving = true;
  for (auto& [peer, conn] : state_->peers) conn->cv.notify_all();
  return std::unique_ptr<ServerTransport>(new InprocServer(state_));
}

std::unique_ptr<SiteTransport> InprocHub::Connect(const std::string& site_id) {
  auto conn = std::make_shared<Conn>();
  conn->site_id = site_id;
  std::lock_guard<std::mutex> lock(state_->mu);
  conn->peer_id = state_->NewPeerId(site_id);
  state_->peers[conn->peer_id] = conn;
  return std::unique_ptr<SiteTransport>(new InprocSite(state_, conn));
}

void InprocHub::SetFilter(InprocFilter filter) {
  auto f = filter ? std::make_shared<const InprocFilter>(std::move(filter)) : nullptr;
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->filter = std::move(f);
}

void InprocHub::Kill(const std::string& site_id) {
  std::lock_guard<std::mutex> lock(state_->mu);
  for (auto& [peer, conn] : state_->peers) {
    if (conn->site_id != site_id) continue;
    conn->cut = true;
    state_->dropped.fetch_add(conn->inbox.size());
    conn->inbox.clear();
    conn->cv.notify_all();
  }
}

void InprocHub::Revive(const std::string& site_id) {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::vector<std::shared_ptr<Conn>> revived;
  for (auto it = state_->peers.begin(); it != state_->peers.end();) {
    if (it->second->site_id == site_id && it->second->cut) {
      revived.push_back(it->second);
      it = state_->peers.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& conn : revived) {
    conn->peer_id = state_->NewPeerId(site_id);
    conn->cut = false;
    state_->peers[conn->peer_id] = conn;
    conn->cv.notify_all();
  }
}

uint64_t InprocHub::delivered() const { return state_->delivered.load(); }
uint64_t InprocHub::dropped() const { return state_->dropped.load(); }

}  // namespace fedsmear
