// RouterEndpoint / DealerEndpoint over tcp://127.0.0.1 with CurveZMQ, ZAP and insecure mode.
// Every wait is bounded; ports are ephemeral (tcp://127.0.0.1:*).
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>
#include <zmq.hpp>

#include "common/net/dealer.h"
#include "common/net/router.h"
#include "common/net/zap.h"
#include "common/wire/messages.h"

namespace fedsmear {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Polls `done` every 10 ms until it holds or `limit` passes.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

std::string HelloBytes(const std::string& site_id) {
  wire::Hello hello;
  hello.site_id = site_id;
  hello.software_version = "test";
  return wire::Encode(wire::Message{wire::kProtocolVersion, "", hello});
}

class EndpointTest : public ::testing::Test {
 protected:
  RouterOptions SecureRouter() const {
    RouterOptions o;
    o.endpoint = "tcp://127.0.0.1:*";
    o.server_keys = server_;
    o.allowed_sites = {{"site-a", site_a_.public_key, ""}};
    o.linger = 0ms;
    return o;
  }
  DealerOptions SecureDealer(const std::string& endpoint, const KeyPair& keys) const {
    DealerOptions o;
    o.endpoint = endpoint;
    o.client_keys = keys;
    o.server_public_key = server_.public_key;
    o.linger = 0ms;
    o.reconnect_ivl = 50ms;
    o.reconnect_ivl_max = 200ms;
    return o;
  }
  static RouterOptions InsecureRouter() {
    RouterOptions o;
    o.endpoint = "tcp://127.0.0.1:*";
    o.insecure = true;
    o.linger = 0ms;
    return o;
  }
  static DealerOptions InsecureDealer(const std::string& endpoint) {
    DealerOptions o;
    o.endpoint = endpoint;
    o.insecure = true;
    o.linger = 0ms;
    o.reconnect_ivl = 50ms;
    o.reconnect_ivl_max = 200ms;
    return o;
  }

  const KeyPair server_ = GenerateKeyPair();
  const KeyPair site_a_ = GenerateKeyPair();
};

TEST_F(EndpointTest, CurveSiteExchangesMessagesAndRouterSeesSiteId) {
  auto router = RouterEndpoint::Bind(SecureRouter());
  ASSERT_TRUE(router.ok()) << router.status();
  EXPECT_TRUE(router->secure());
  EXPECT_NE(router->endpoint().find("tcp://127.0.0.1:"), std::string::npos);
  EXPECT_EQ(router->endpoint().find('*'), std::string::npos);
  auto dealer = DealerEndpoint::Connect(SecureDealer(router->endpoint(), site_a_));
  ASSERT_TRUE(dealer.ok()) << dealer.status();

  ASSERT_TRUE(dealer->Send(HelloBytes("site-a"), 5s).ok());
  auto in = router->Receive(5s);
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_TRUE(in->has_value());
  const Incoming& msg = **in;
  EXPECT_EQ(msg.site_id, "site-a");
  EXPECT_EQ(msg.peer_address, "127.0.0.1");
  auto hello = wire::Decode(msg.bytes);
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(std::get<wire::Hello>(hello->body).site_id, "site-a");

  wire::Welcome welcome;
  welcome.accepted = true;
  welcome.run_id = "run-1";
  ASSERT_TRUE(router->Send(msg.peer_id, wire::Encode({wire::kProtocolVersion, "run-1", welcome}))
                  .ok());
  auto reply = dealer->Receive(5s);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_TRUE(reply->has_value());
  auto decoded = wire::Decode(**reply);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(std::get<wire::Welcome>(decoded->body).accepted);
  EXPECT_GE(router->auth_accepted(), 1u);
  EXPECT_EQ(router->auth_refused(), 0u);
}

TEST_F(EndpointTest, UnknownKeyIsRefusedAndCounted) {
  auto router = RouterEndpoint::Bind(SecureRouter());
  ASSERT_TRUE(router.ok()) << router.status();
  const KeyPair stranger = GenerateKeyPair();
  auto dealer = DealerEndpoint::Connect(SecureDealer(router->endpoint(), stranger));
  ASSERT_TRUE(dealer.ok()) << dealer.status();

  EXPECT_EQ(dealer->Send(HelloBytes("site-x"), 300ms).code(), StatusCode::kTimeout);
  auto in = router->Receive(300ms);
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_FALSE(in->has_value());
  EXPECT_TRUE(WaitFor([&] { return router->auth_refused() >= 1; }, 5s));
  EXPECT_EQ(router->auth_accepted(), 0u);
  // The site learns why: the monitor reports the refused handshake.
  EXPECT_TRUE(WaitFor([&] { return dealer->Receive(20ms).ok() && dealer->handshake_failures(); },
                      3s));
  EXPECT_NE(dealer->last_failure().find("refused this site's key"), std::string::npos)
      << dealer->last_failure();
}

TEST_F(EndpointTest, AllowlistCanBeReplacedAtRuntime) {
  auto router = RouterEndpoint::Bind(SecureRouter());
  ASSERT_TRUE(router.ok()) << router.status();
  const KeyPair site_b = GenerateKeyPair();
  auto dealer = DealerEndpoint::Connect(SecureDealer(router->endpoint(), site_b));
  ASSERT_TRUE(dealer.ok());
  ASSERT_TRUE(WaitFor([&] { return router->auth_refused() >= 1; }, 5s));
  router->SetAllowedSites({{"site-a", site_a_.public_key, ""}, {"site-b", site_b.public_key, ""}});
  ASSERT_TRUE(dealer->Send(HelloBytes("site-b"), 5s).ok());  // after the next reconnect
  auto in = router->Receive(5s);
  ASSERT_TRUE(in.ok() && in->has_value());
  EXPECT_EQ((*in)->site_id, "site-b");
}

TEST_F(EndpointTest, WrongPinnedServerKeyNeverConnects) {
  auto router = RouterEndpoint::Bind(SecureRouter());
  ASSERT_TRUE(router.ok()) << router.status();
  DealerOptions options = SecureDealer(router->endpoint(), site_a_);
  options.server_public_key = GenerateKeyPair().public_key;  // an impostor's key
  auto dealer = DealerEndpoint::Connect(options);
  ASSERT_TRUE(dealer.ok()) << dealer.status();
  EXPECT_EQ(dealer->Send(HelloBytes("site-a"), 400ms).code(), StatusCode::kTimeout);
  auto in = router->Receive(200ms);
  ASSERT_TRUE(in.ok());
  EXPECT_FALSE(in->has_value());
  EXPECT_EQ(router->auth_accepted(), 0u);
  EXPECT_TRUE(WaitFor([&] { return dealer->Receive(20ms).ok() && dealer->handshake_failures(); },
                      3s));
}

TEST_F(EndpointTest, SecureRouterIgnoresPlainDealer) {
  auto router = RouterEndpoint::Bind(SecureRouter());
  ASSERT_TRUE(router.ok()) << router.status();
  auto dealer = DealerEndpoint::Connect(InsecureDealer(router->endpoint()));
  ASSERT_TRUE(dealer.ok());
  EXPECT_EQ(dealer->Send(HelloBytes("site-a"), 300ms).code(), StatusCode::kTimeout);
  auto in = router->Receive(200ms);
  ASSERT_TRUE(in.ok());
  EXPECT_FALSE(in->has_value());
}

TEST_F(EndpointTest, InsecureModeWorks) {
  auto router = RouterEndpoint::Bind(InsecureRouter());
  ASSERT_TRUE(router.ok()) << router.status();
  EXPECT_FALSE(router->secure());
  auto dealer = DealerEndpoint::Connect(InsecureDealer(router->endpoint()));
  ASSERT_TRUE(dealer.ok()) << dealer.status();
  ASSERT_TRUE(dealer->Send(HelloBytes("site-z"), 5s).ok());
  auto in = router->Receive(5s);
  ASSERT_TRUE(in.ok() && in->has_value());
  EXPECT_EQ((*in)->site_id, "");  // must come from the Hello
  EXPECT_EQ(std::get<wire::Hello>(wire::Decode((*in)->bytes)->body).site_id, "site-z");
  ASSERT_TRUE(router->Send((*in)->peer_id, "pong").ok());
  auto reply = dealer->Receive(5s);
  ASSERT_TRUE(reply.ok() && reply->has_value());
  EXPECT_EQ(**reply, "pong");
}

TEST_F(EndpointTest, OversizedMessageIsDroppedAndRouterKeepsServing) {
  RouterOptions ro = SecureRouter();
  ro.max_message_bytes = 64 * 1024;
  auto router = RouterEndpoint::Bind(ro);
  ASSERT_TRUE(router.ok()) << router.status();
  auto big_sender = DealerEndpoint::Connect(SecureDealer(router->endpoint(), site_a_));
  ASSERT_TRUE(big_sender.ok());
  ASSERT_TRUE(big_sender->Send(std::string(1 << 20, 'x'), 5s).ok());
  auto in = router->Receive(500ms);
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_FALSE(in->has_value());

  // The router still serves; the dropped connection reconnects on its own.
  bool got = false;
  const auto deadline = Clock::now() + 5s;
  while (!got && Clock::now() < deadline) {
    if (!big_sender->Send("small", 200ms).ok()) continue;
    auto next = router->Receive(200ms);
    ASSERT_TRUE(next.ok());
    got = next->has_value() && (*next)->bytes == "small" && (*next)->site_id == "site-a";
  }
  EXPECT_TRUE(got);
}

TEST_F(EndpointTest, ReceiveTimeoutsAreValuesAndBounded) {
  auto router = RouterEndpoint::Bind(InsecureRouter());
  ASSERT_TRUE(router.ok());
  auto dealer = DealerEndpoint::Connect(InsecureDealer(router->endpoint()));
  ASSERT_TRUE(dealer.ok());
  auto start = Clock::now();
  auto r = router->Receive(50ms);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  auto d = dealer->Receive(50ms);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->has_value());
  auto zero = router->Receive(0ms);
  ASSERT_TRUE(zero.ok());
  EXPECT_LT(Clock::now() - start, 1s);
}

TEST_F(EndpointTest, SendToUnknownOrVanishedPeerIsUnavailable) {
  auto router = RouterEndpoint::Bind(InsecureRouter());
  ASSERT_TRUE(router.ok());
  EXPECT_EQ(router->Send("no-such-peer", "x").code(), StatusCode::kUnavailable);
  std::string peer;
  {
    auto dealer = DealerEndpoint::Connect(InsecureDealer(router->endpoint()));
    ASSERT_TRUE(dealer.ok());
    ASSERT_TRUE(dealer->Send("hi", 5s).ok());
    auto in = router->Receive(5s);
    ASSERT_TRUE(in.ok() && in->has_value());
    peer = (*in)->peer_id;
    EXPECT_TRUE(router->Send(peer, "still here").ok());
  }
  EXPECT_TRUE(WaitFor([&] { return router->Send(peer, "gone?", 100ms).code() ==
                                   StatusCode::kUnavailable; },
                      5s));
}

TEST_F(EndpointTest, MultiFrameJunkIsDiscarded) {
  auto router = RouterEndpoint::Bind(InsecureRouter());
  ASSERT_TRUE(router.ok());
  zmq::context_t ctx(1);
  zmq::socket_t raw(ctx, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(router->endpoint());
  raw.send(zmq::str_buffer("frame1"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("frame2"), zmq::send_flags::none);
  raw.send(zmq::str_buffer("single"), zmq::send_flags::none);
  auto in = router->Receive(5s);
  ASSERT_TRUE(in.ok() && in->has_value());
  EXPECT_EQ((*in)->bytes, "single");
}

TEST_F(EndpointTest, DealerReconnectsAfterRouterRestart) {
  std::string endpoint;
  {
    auto router = RouterEndpoint::Bind(SecureRouter());
    ASSERT_TRUE(router.ok()) << router.status();
    endpoint = router->endpoint();  // learn a free port, then release it
  }
  auto dealer = DealerEndpoint::Connect(SecureDealer(endpoint, site_a_));
  ASSERT_TRUE(dealer.ok());
  for (int generation = 0; generation < 2; ++generation) {
    RouterOptions options = SecureRouter();
    options.endpoint = endpoint;  // same port every time
    Result<RouterEndpoint> router = Status(StatusCode::kUnavailable, "not bound yet");
    ASSERT_TRUE(WaitFor([&] { return (router = RouterEndpoint::Bind(options)).ok(); }, 3s))
        << router.status();
    bool got = false;
    const auto deadline = Clock::now() + 5s;
    while (!got && Clock::now() < deadline) {
      if (!dealer->Send("gen" + std::to_string(generation), 200ms).ok()) continue;
      auto in = router->Receive(200ms);
      ASSERT_TRUE(in.ok());
      got = in->has_value() && (*in)->site_id == "site-a";
    }
    EXPECT_TRUE(got) << "generation " << generation;
  }  // the router is destroyed here and re-created by the next generation
}

TEST(ZapAuthenticatorTest, OnePerContextAndStopIsPrompt) {
  zmq::context_t ctx(1);
  auto first = ZapAuthenticator::Start(ctx, {});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = ZapAuthenticator::Start(ctx, {});
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  const auto start = Clock::now();
  first->Stop();
  first->Stop();  // idempotent
  EXPECT_LT(Clock::now() - start, 1s);
  auto third = ZapAuthenticator::Start(ctx, {});  // the address is free again
  EXPECT_TRUE(third.ok()) << third.status();
}

TEST(RouterOptionsTest, InvalidKeysAreRejected) {
  RouterOptions o;
  o.endpoint = "tcp://127.0.0.1:*";
  o.server_keys = {"short", "short"};
  EXPECT_EQ(RouterEndpoint::Bind(o).status().code(), StatusCode::kInvalidArgument);
  o.insecure = true;
  o.endpoint = "nonsense://x";
  EXPECT_FALSE(RouterEndpoint::Bind(o).ok());
}

}  // namespace
}  // namespace fedsmear
