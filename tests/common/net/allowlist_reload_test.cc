// The coordinator's allowlist file reloaded without a restart, over real CurveZMQ sockets on
// tcp://127.0.0.1: a site added to the file connects, a revoked site's messages are dropped and
// its next connection is refused, a rotated key replaces the old one, and a broken file leaves
// the previous list in force. Every wait is bounded.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "common/file_util.h"
#include "common/net/allowlist_edit.h"
#include "common/net/dealer.h"
#include "common/net/router.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class AllowlistReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(AdmitSite(Allowlist(), {"site-a", site_a_.public_key, ""}, false).ok());
    RouterOptions o;
    o.endpoint = "tcp://127.0.0.1:*";
    o.server_keys = server_;
    o.allowed_sites_file = Allowlist();
    o.linger = 0ms;
    auto router = RouterEndpoint::Bind(o);
    ASSERT_TRUE(router.ok()) << router.status();
    router_.emplace(std::move(*router));
  }
  std::string Allowlist() const { return dir_.Sub("allowed_sites"); }

  DealerEndpoint Connect(const KeyPair& keys) {
    DealerOptions o;
    o.endpoint = router_->endpoint();
    o.client_keys = keys;
    o.server_public_key = server_.public_key;
    o.linger = 0ms;
    o.reconnect_ivl = 50ms;
    o.reconnect_ivl_max = 200ms;
    auto dealer = DealerEndpoint::Connect(o);
    EXPECT_TRUE(dealer.ok()) << dealer.status();
    return std::move(*dealer);
  }

  // Sends `text` from `dealer` until the router receives it (true) or `limit` passes; the
  // router's site id of the message is left in *site_id.
  bool Delivered(DealerEndpoint& dealer, const std::string& text, std::chrono::milliseconds limit,
                 std::string* site_id = nullptr) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      (void)dealer.Send(text, 100ms);
      auto in = router_->Receive(100ms);
      if (in.ok() && in->has_value() && (*in)->bytes == text) {
        if (site_id != nullptr) *site_id = (*in)->site_id;
        return true;
      }
    }
    return false;
  }

  testing::TempDir dir_{"fedsmear-reload"};
  const KeyPair server_ = GenerateKeyPair();
  const KeyPair site_a_ = GenerateKeyPair();
  std::optional<RouterEndpoint> router_;
};

TEST_F(AllowlistReloadTest, ASiteAddedToTheFileConnectsWithoutARestart) {
  const KeyPair site_b = GenerateKeyPair();
  DealerEndpoint b = Connect(site_b);
  EXPECT_FALSE(Delivered(b, "b-early", 600ms));
  EXPECT_GE(router_->auth_refused(), 1u);
  ASSERT_TRUE(AdmitSite(Allowlist(), {"site-b", site_b.public_key, ""}, false).ok());
  std::string site_id;
  EXPECT_TRUE(Delivered(b, "b-late", 5s, &site_id));
  EXPECT_EQ(site_id, "site-b");
  EXPECT_GE(router_->allowlist_reloads(), 1u);
}

TEST_F(AllowlistReloadTest, ARevokedSiteIsDroppedAndRefused) {
  DealerEndpoint a = Connect(site_a_);
  std::string site_id;
  ASSERT_TRUE(Delivered(a, "a-before", 5s, &site_id));
  EXPECT_EQ(site_id, "site-a");
  const uint64_t accepted = router_->auth_accepted();
  ASSERT_TRUE(RevokeSite(Allowlist(), "site-a").ok());
  // The open connection falls silent once the router has seen the change (within a second).
  const auto deadline = Clock::now() + 3s;
  while (router_->revoked_dropped() == 0 && Clock::now() < deadline) {
    (void)Delivered(a, "a-racing", 100ms);  // delivered until the router sees the change
  }
  EXPECT_GE(router_->revoked_dropped(), 1u);
  EXPECT_FALSE(Delivered(a, "a-after", 500ms));
  // A new connection with the revoked key is refused at the handshake.
  const uint64_t refused = router_->auth_refused();
  DealerEndpoint again = Connect(site_a_);
  EXPECT_FALSE(Delivered(again, "a-again", 800ms));
  EXPECT_GT(router_->auth_refused(), refused);
  EXPECT_EQ(router_->auth_accepted(), accepted);
}

TEST_F(AllowlistReloadTest, ARotatedKeyReplacesTheOldOne) {
  DealerEndpoint old_conn = Connect(site_a_);
  ASSERT_TRUE(Delivered(old_conn, "old", 5s));
  const KeyPair rotated = GenerateKeyPair();
  ASSERT_TRUE(AdmitSite(Allowlist(), {"site-a", rotated.public_key, ""}, true).ok());
  DealerEndpoint new_conn = Connect(rotated);
  std::string site_id;
  EXPECT_TRUE(Delivered(new_conn, "new", 5s, &site_id));
  EXPECT_EQ(site_id, "site-a");
  EXPECT_FALSE(Delivered(old_conn, "old-after", 500ms));  // the old key's connection is muted
  EXPECT_GE(router_->revoked_dropped(), 1u);
  const uint64_t refused = router_->auth_refused();
  DealerEndpoint old_again = Connect(site_a_);
  EXPECT_FALSE(Delivered(old_again, "old-again", 800ms));
  EXPECT_GT(router_->auth_refused(), refused);
}

TEST_F(AllowlistReloadTest, ABrokenFileKeepsThePreviousList) {
  ASSERT_TRUE(WriteFileAtomic(Allowlist(), "site-a this-is-not-a-key\n", 0640).ok());
  std::this_thread::sleep_for(1100ms);  // past the router's once-a-second check
  DealerEndpoint a = Connect(site_a_);
  EXPECT_TRUE(Delivered(a, "still-admitted", 5s));
  EXPECT_EQ(router_->allowlist_reloads(), 0u);
}

TEST_F(AllowlistReloadTest, AnUnreadableFileAtStartIsAnError) {
  RouterOptions o;
  o.endpoint = "tcp://127.0.0.1:*";
  o.server_keys = server_;
  o.allowed_sites_file = dir_.Sub("absent");
  o.linger = 0ms;
  router_.reset();  // one ZAP handler per context, but each router has its own context
  EXPECT_FALSE(RouterEndpoint::Bind(o).ok());
}

}  // namespace
}  // namespace fedsmear
