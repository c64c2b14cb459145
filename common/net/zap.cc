// ZAP handler thread: allowlist lookup of CURVE client keys.
#include "common/net/zap.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "common/net/socket_util.h"

namespace fedsmear {

struct ZapAuthenticator::State {
  std::mutex mu;
  std::map<std::string, std::string> site_by_key;  // Z85 public key -> site id; guarded by mu
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<bool> failed{false};  // the thread stopped on an error (not by Stop())
  zmq::socket_t zap;         // REP, used by the thread only
  zmq::socket_t control_in;  // PAIR, used by the thread only
  zmq::socket_t control_out; // PAIR, used by the owner in Stop()
  std::thread thread;

  void SetSites(std::vector<AllowedSite> sites) {
    std::map<std::string, std::string> m;
    for (auto& s : sites) m.emplace(std::move(s.public_key), std::move(s.site_id));
    std::lock_guard<std::mutex> lock(mu);
    site_by_key = std::move(m);
  }

  void Run();
  void Handle(std::vector<zmq::message_t>& request);
  void Reply(const std::string& request_id, const char* code, const char* text,
             const std::string& user_id);
};

void ZapAuthenticator::State::Run() {
  zmq::pollitem_t items[] = {{zap.handle(), 0, ZMQ_POLLIN, 0},
                             {control_in.handle(), 0, ZMQ_POLLIN, 0}};
  while (true) {
    if (zmq_poll(items, 2, -1) < 0) {
      if (zmq_errno() == EINTR) continue;
      spdlog::error("ZAP handler stops: {}", zmq_strerror(zmq_errno()));
      failed.store(true);
      return;
    }
    if (items[1].revents & ZMQ_POLLIN) return;  // Stop()
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    auto frames = net_internal::RecvAllFrames(zap);
    if (!frames.ok()) {
      spdlog::error("ZAP handler stops: {}", frames.status().ToString());
      failed.store(true);
      return;
    }
    if (!frames->empty()) Handle(*frames);
  }
}

// Request frames (RFC 27): version, request id, domain, address, routing id, mechanism, creds...
void ZapAuthenticator::State::Handle(std::vector<zmq::message_t>& request) {
  const std::string request_id = request.size() > 1 ? request[1].to_string() : std::string();
  if (request.size() < 6 || request[0].to_string_view() != "1.0") {
    refused.fetch_add(1);
    spdlog::warn("ZAP: malformed authentication request ({} frames) refused", request.size());
    Reply(request_id, "500", "malformed request", "");
    return;
  }
  const std::string address = request[3].to_string();
  const std::string mechanism = request[5].to_string();
  if (mechanism != "CURVE" || request.size() != 7 || request[6].size() != 32) {
    refused.fetch_add(1);
    spdlog::warn("ZAP: refused {} connection from {} (only CURVE clients are admitted)",
                 mechanism, address);
    Reply(request_id, "400", "CURVE required", "");
    return;
  }
  const std::string key = Z85EncodeKey(request[6].to_string_view());
  std::string site_id;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = site_by_key.find(key); it != site_by_key.end()) site_id = it->second;
  }
  if (site_id.empty()) {
    refused.fetch_add(1);
    spdlog::warn("ZAP: refused unknown key {} from {}", KeyPrefix(key), address);
    Reply(request_id, "400", "unknown key", "");
    return;
  }
  accepted.fetch_add(1);
  spdlog::debug("ZAP: admitted site {} (key {}) from {}", site_id, KeyPrefix(key), address);
  Reply(request_id, "200", "OK", site_id);
}

void ZapAuthenticator::State::Reply(const std::string& request_id, const char* code,
                                    const char* text, const std::string& user_id) {
  try {
    zap.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(std::string_view(code)), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(std::string_view(text)), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
    zap.send(zmq::message_t(), zmq::send_flags::none);  // no metadata
  } catch (const zmq::error_t& e) {
    spdlog::error("ZAP: cannot reply: {}", e.what());
  }
}

Result<ZapAuthenticator> ZapAuthenticator::Start(zmq::context_t& context,
                                                 std::vector<AllowedSite> sites) {
  auto state = std::make_unique<State>();
  state->SetSites(std::move(sites));
  char control_name[64];
  std::snprintf(control_name, sizeof(control_name), "inproc://fedsmear-zap-control-%p",
                static_cast<void*>(state.get()));
  try {
    state->zap = zmq::socket_t(context, zmq::socket_type::rep);
    state->zap.set(zmq::sockopt::linger, 0);
    state->zap.bind("inproc://zeromq.zap.01");
  } catch (const zmq::error_t& e) {
    if (e.num() == EADDRINUSE) {
      return Unavailable("another ZAP handler is already running in this ZeroMQ context");
    }
    return net_internal::ZmqStatus(e, "starting the ZAP handler");
  }
  try {
    state->control_in = zmq::socket_t(context, zmq::socket_type::pair);
    state->control_in.set(zmq::sockopt::linger, 0);
    state->control_in.bind(control_name);
    state->control_out = zmq::socket_t(context, zmq::socket_type::pair);
    state->control_out.set(zmq::sockopt::linger, 0);
    state->control_out.connect(control_name);
  } catch (const zmq::error_t& e) {
    return net_internal::ZmqStatus(e, "starting the ZAP handler");
  }
  // The sockets above move to the new thread; std::thread's start is the required full fence.
  State* raw = state.get();
  state->thread = std::thread([raw] { raw->Run(); });
  return ZapAuthenticator(std::move(state));
}

ZapAuthenticator::ZapAuthenticator(std::unique_ptr<State> state) : state_(std::move(state)) {}
ZapAuthenticator::ZapAuthenticator(ZapAuthenticator&&) noexcept = default;

ZapAuthenticator& ZapAuthenticator::operator=(ZapAuthenticator&& other) noexcept {
  if (this != &other) {
    Stop();
    state_ = std::move(other.state_);
  }
  return *this;
}

ZapAuthenticator::~ZapAuthenticator() { Stop(); }

void ZapAuthenticator::Stop() {
  if (!state_) return;
  if (state_->thread.joinable()) {
    try {
      state_->control_out.send(zmq::str_buffer("stop"), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      spdlog::error("ZAP: cannot signal stop: {}", e.what());
    }
    state_->thread.join();
  }
  if (state_->zap) {
    // Unbinding inproc is synchronous (closing is not), so the address is free on return.
    zmq_unbind(state_->zap.handle(), "inproc://zeromq.zap.01");
    state_->zap.close();
  }
  if (state_->control_in) state_->control_in.close();
  if (state_->control_out) state_->control_out.close();
}

void ZapAuthenticator::SetAllowedSites(std::vector<AllowedSite> sites) {
  if (state_) state_->SetSites(std::move(sites));
}

uint64_t ZapAuthenticator::accepted() const { return state_ ? state_->accepted.load() : 0; }
uint64_t ZapAuthenticator::refused() const { return state_ ? state_->refused.load() : 0; }
bool ZapAuthenticator::failed() const { return state_ && state_->failed.load(); }

}  // namespace fedsmear
