// InprocHub (common/net/inproc_transport.h): delivery both ways, authenticated ids, peer ids per
// connection, closed and cut connections, the size cap, the filter, many sites on threads, and
// the ZeroMQ endpoints used through the same Transport interface.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "common/net/dealer.h"
#include "common/net/inproc_transport.h"
#include "common/net/router.h"

namespace fedsmear {
namespace {

using namespace std::chrono_literals;

// One exchange through the interfaces only: site -> coordinator -> site.
void PingPong(ServerTransport& server, SiteTransport& site, const std::string& expect_site) {
  Status sent = Status::Ok();
  for (int i = 0; i < 50; ++i) {  // ZeroMQ may still be connecting
    sent = site.Send("ping", 200ms);
    if (sent.ok()) break;
  }
  ASSERT_TRUE(sent.ok()) << sent;
  auto in = server.Receive(5s);
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_TRUE(in->has_value());
  EXPECT_EQ((*in)->bytes, "ping");
  EXPECT_EQ((*in)->site_id, expect_site);
  ASSERT_TRUE(server.Send((*in)->peer_id, "pong", 1s).ok());
  auto back = site.Receive(5s);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ(**back, "pong");
}

TEST(InprocTransportTest, DeliversBothWaysWithAuthenticatedIds) {
  InprocHub hub;
  auto server = hub.Serve();
  ASSERT_TRUE(server.ok());
  auto a = hub.Connect("site-a");
  auto b = hub.Connect("site-b");
  PingPong(**server, *a, "site-a");
  PingPong(**server, *b, "site-b");
  EXPECT_EQ(hub.delivered(), 4u);
  EXPECT_FALSE(hub.Serve().ok());  // one coordinator per hub
}

TEST(InprocTransportTest, ReceiveTimeoutIsAValue) {
  InprocHub hub;
  auto server = hub.Serve();
  ASSERT_TRUE(server.ok());
  auto a = hub.Connect("site-a");
  auto in = (*server)->Receive(20ms);
  ASSERT_TRUE(in.ok());
  EXPECT_FALSE(in->has_value());
  auto back = a->Receive(20ms);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->has_value());
}

TEST(InprocTransportTest, SiteSendTimesOutWithoutCoordinator) {
  InprocHub hub;
  auto a = hub.Connect("site-a");
  Status st = a->Send("hello", 30ms);
  EXPECT_EQ(st.code(), StatusCode::kTimeout) << st;
}

TEST(InprocTransportTest, ReconnectionGetsNewPeerIdAndClosedPeerIsUnavailable) {
  InprocHub hub;
  auto server = hub.Serve();
  ASSERT_TRUE(server.ok());
  auto first = hub.Connect("site-a");
  ASSERT_TRUE(first->Send("one", 1s).ok());
  auto in1 = (*server)->Receive(1s);
  ASSERT_TRUE(in1.ok() && in1->has_value());
  first.reset();  // the connection closes
  EXPECT_EQ((*server)->Send((*in1)->peer_id, "x", 1s).code(), StatusCode::kUnavailable);
  auto second = hub.Connect("site-a");
  ASSERT_TRUE(second->Send("two", 1s).ok());
  auto in2 = (*server)->Receive(1s);
  ASSERT_TRUE(in2.ok() && in2->has_value());
  EXPECT_NE((*in2)->peer_id, (*in1)->peer_id);
  EXPECT_EQ((*in2)->site_id, "site-a");
}

TEST(InprocTransportTest, KillCutsAndReviveReconnects) {
  InprocHub hub;
  auto server = hub.Serve();
  ASSERT_TRUE(server.ok());
  auto a = hub.Connect("site-a");
  ASSERT_TRUE(a->Send("before", 1s).ok());
  auto in = (*server)->Receive(1s);
  ASSERT_TRUE(in.ok() && in->has_value());
  hub.Kill("site-a");
  EXPECT_EQ((*server)->Send((*in)->peer_id, "lost", 1s).code(), StatusCode::kUnavailable);
  EXPECT_EQ(a->Send("lost", 20ms).code(), StatusCode::kTimeout);
  hub.Revive("site-a");
  PingPong(**server, *a, "site-a");
  auto again = (*server)->Receive(0ms);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST(InprocTransportTest, SizeCapAndFilterDrop) {
  InprocOptions options;
  options.max_message_bytes = 8;
  InprocHub hub(options);
  auto server = hub.Serve();
  ASSERT_TRUE(server.ok());
  auto a = hub.Connect("site-a");
  ASSERT_TRUE(a->Send("far too large", 1s).ok());  // accepted, then dropped (as libzmq)
  std::atomic<int> seen{0};
  hub.SetFilter([&](InprocDirection d, const std::string& site, std::string_view bytes) {
    ++seen;
    return !(d == InprocDirection::kToCoordinator && site == "site-a" && bytes == "drop");
  });
  ASSERT_TRUE(a->Send("drop", 1s).ok());
  ASSERT_TRUE(a->Send("keep", 1s).ok());
  auto in = (*server)->Receive(1s);
  ASSERT_TRUE(in.ok() && in->has_value());
  EXPECT_EQ((*in)->bytes, "keep");
  EXPECT_EQ(hub.dropped(), 2u);
  EXPECT_EQ(seen.load(), 2);
  hub.SetFilter(nullptr);
  PingPong(**server, *a, "site-a");
}

TEST(InprocTransportTest, ManySitesOnThreads) {
  constexpr int kSites = 200;
  InprocHub hub;
  auto server = hub.Serve();
  ASSERT_TRUE(server.ok());
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < kSites; ++k) {
    threads.emplace_back([&, k] {
      auto site = hub.Connect("site-" + std::to_string(k));
      if (!site->Send(std::to_string(k), 1s).ok()) return;
      auto back = site->Receive(10s);
      if (back.ok() && back->has_value() && **back == "ack-" + std::to_string(k)) ++answered;
    });
  }
  for (int i = 0; i < kSites; ++i) {
    auto in = (*server)->Receive(10s);
    ASSERT_TRUE(in.ok() && in->has_value());
    EXPECT_EQ((*in)->site_id, "site-" + (*in)->bytes);
    ASSERT_TRUE((*server)->Send((*in)->peer_id, "ack-" + (*in)->bytes, 1s).ok());
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(answered.load(), kSites);
}

TEST(InprocTransportTest, ZeroMqEndpointsImplementTheSameInterface) {
  RouterOptions ro;
  ro.endpoint = "tcp://127.0.0.1:*";
  ro.insecure = true;
  ro.linger = 0ms;
  auto router = RouterEndpoint::Bind(ro);
  ASSERT_TRUE(router.ok()) << router.status();
  DealerOptions dopt;
  dopt.endpoint = router->endpoint();
  dopt.insecure = true;
  dopt.linger = 0ms;
  auto dealer = DealerEndpoint::Connect(dopt);
  ASSERT_TRUE(dealer.ok()) << dealer.status();
  ServerTransport& server = *router;
  SiteTransport& site = *dealer;
  PingPong(server, site, "");  // insecure: no authenticated id
}

}  // namespace
}  // namespace fedsmear
