// ZAP handler thread: allowlist lookup of CURVE client keys.
#include "common/net/zap.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "common/net/socket_util.h"

namespace fedsmear {

namespace {

// What identifies one version of the allowlist file; an atomic rename changes the inode, an
// edit in place the size or the times.
struct FileSignature {
  bool present = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileSignature& o) const {
    return present == o.present && dev == o.dev && ino == o.ino && size == o.size &&
           mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
  }
};

FileSignature SignatureOf(const std::string& path) {
  struct stat st {};
  FileSignature sig;
  if (::stat(path.c_str(), &st) != 0) return sig;
  sig.present = true;
  sig.dev = st.st_dev;
  sig.ino = st.st_ino;
  sig.size = st.st_size;
  sig.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  sig.ctime_ns = int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
  return sig;
}

}  // namespace

struct ZapAuthenticator::State {
  mutable std::mutex mu;
  std::map<std::string, std::string> site_by_key;  // Z85 public key -> site id; guarded by mu
  std::string allowlist_path;  // "" = no reload; immutable after Start
  std::mutex reload_mu;        // serialises MaybeReload(); guards seen
  FileSignature seen;          // the file's signature at the last read attempt
  std::atomic<uint64_t> reloads{0};
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

  bool MaybeReload() {
    if (allowlist_path.empty()) return false;
    std::lock_guard<std::mutex> lock(reload_mu);
    const FileSignature now = SignatureOf(allowlist_path);
    if (now == seen) return false;
    seen = now;
    Result<std::vector<AllowedSite>> sites = LoadAllowedSites(allowlist_path);
    if (!sites.ok()) {
      spdlog::error("ZAP: the allowlist {} changed but cannot be used, so the previous list "
                    "stays in force: {}", allowlist_path, sites.status().message());
      return false;
    }
    const size_t count = sites->size();
    SetSites(std::move(*sites));
    reloads.fetch_add(1);
    spdlog::info("ZAP: reloaded the allowlist {} ({} sites)", allowlist_path, count);
    return true;
  }

  bool Admits(const std::string& site_id, const std::string& key) const {
    std::lock_guard<std::mutex> lock(mu);
    auto it = site_by_key.find(key);
    return it != site_by_key.end() && it->second == site_id;
  }

  void Run();
  void Handle(std::vector<zmq::message_t>& request);
  void Reply(const std::string& request_id, const char* code, const char* text,
             const std::string& user_id, const std::string& key = "");
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
  MaybeReload();
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
  Reply(request_id, "200", "OK", site_id, key);
}

void ZapAuthenticator::State::Reply(const std::string& request_id, const char* code,
                                    const char* text, const std::string& user_id,
                                    const std::string& key) {
  // Metadata (ZMTP property list): 1-byte name length, name, 4-byte big-endian value length.
  std::string metadata;
  if (!key.empty()) {
    constexpr std::string_view kName = "X-Curve-Key";
    metadata += static_cast<char>(kName.size());
    metadata += kName;
    for (int shift = 24; shift >= 0; shift -= 8) {
      metadata += static_cast<char>((key.size() >> shift) & 0xff);
    }
    metadata += key;
  }
  try {
    zap.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(std::string_view(code)), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(std::string_view(text)), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(metadata), zmq::send_flags::none);
  } catch (const zmq::error_t& e) {
    spdlog::error("ZAP: cannot reply: {}", e.what());
  }
}

Result<ZapAuthenticator> ZapAuthenticator::Start(zmq::context_t& context,
                                                 std::vector<AllowedSite> sites,
                                                 std::string allowlist_path) {
  auto state = std::make_unique<State>();
  if (!allowlist_path.empty()) {
    state->seen = SignatureOf(allowlist_path);  // before reading: a change after it is seen
    ASSIGN_OR_RETURN(sites, LoadAllowedSites(allowlist_path));
    state->allowlist_path = std::move(allowlist_path);
  }
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

bool ZapAuthenticator::MaybeReload() { return state_ && state_->MaybeReload(); }

bool ZapAuthenticator::Admits(const std::string& site_id, const std::string& key) const {
  return state_ && state_->Admits(site_id, key);
}

uint64_t ZapAuthenticator::reloads() const { return state_ ? state_->reloads.load() : 0; }

uint64_t ZapAuthenticator::accepted() const { return state_ ? state_->accepted.load() : 0; }
uint64_t ZapAuthenticator::refused() const { return state_ ? state_->refused.load() : 0; }
bool ZapAuthenticator::failed() const { return state_ && state_->failed.load(); }

}  // namespace fedsmear
