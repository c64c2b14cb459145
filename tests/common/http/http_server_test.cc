// HttpServer over loopback: the token in a header or the login cookie (never the URL), open
// paths, the login form, item routes and what reaches their handlers, and the security headers
// on every response.
#include "common/http/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

namespace fedsmear {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    token_file_ = std::filesystem::temp_directory_path() /
                  ("fedsmear_http_token_" + std::to_string(::getpid()));
    std::ofstream(token_file_) << "s3cret\n";
  }
  void TearDown() override { std::filesystem::remove(token_file_); }

  std::unique_ptr<HttpServer> Start(bool with_token, bool login) {
    std::map<std::string, HttpHandler> routes;
    routes["/"] = [] { return HttpResponse{200, "text/html; charset=utf-8", "<p>page</p>"}; };
    routes["/data"] = [] { return HttpResponse{200, "application/json", "{}", {{"X-Extra", "1"}}}; };
    routes["/healthz"] = [] { return HttpResponse{200, "text/plain", "ok\n"}; };
    HttpServerOptions options;
    options.open_paths = {"/healthz"};
    options.login_form = login;
    auto server = HttpServer::Start({true, "127.0.0.1:0", with_token ? token_file_.string() : ""},
                                    std::move(routes), std::move(options));
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }

  std::filesystem::path token_file_;
};

TEST_F(HttpServerTest, HeaderOrCookieButNeverTheUrl) {
  auto server = Start(true, true);
  ASSERT_TRUE(server);
  httplib::Client client("127.0.0.1", server->port());
  auto anonymous = client.Get("/data");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Bearer");
  auto wrong = client.Get("/data", {{"Authorization", "Bearer s3cre"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto bearer = client.Get("/data", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(bearer);
  EXPECT_EQ(bearer->status, 200);
  EXPECT_EQ(bearer->get_header_value("X-Extra"), "1");
  auto cookie = client.Get("/data", {{"Cookie", "fedsmear_token=s3cret"}});
  ASSERT_TRUE(cookie);
  EXPECT_EQ(cookie->status, 200);
  auto bad_cookie = client.Get("/data", {{"Cookie", "fedsmear_token=nope"}});
  ASSERT_TRUE(bad_cookie);
  EXPECT_EQ(bad_cookie->status, 401);
  // A token in the URL is refused, right or wrong, with or without a valid header.
  for (const char* path : {"/data?token=s3cret", "/?token=s3cret", "/healthz?token=x"}) {
    auto query = client.Get(path, {{"Authorization", "Bearer s3cret"}});
    ASSERT_TRUE(query) << path;
    EXPECT_EQ(query->status, 400) << path;
    EXPECT_NE(query->body.find("token in the URL is refused"), std::string::npos);
  }
}

TEST_F(HttpServerTest, OpenPathsNeedNoToken) {
  auto server = Start(true, false);
  ASSERT_TRUE(server);
  httplib::Client client("127.0.0.1", server->port());
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 401) << "without a login form the page answers 401";
}

TEST_F(HttpServerTest, LoginFormSetsAnHttpOnlyStrictCookie) {
  auto server = Start(true, true);
  ASSERT_TRUE(server);
  httplib::Client client("127.0.0.1", server->port());
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 303);
  EXPECT_EQ(page->get_header_value("Location"), "/login");
  auto form = client.Get("/login");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 200);
  EXPECT_NE(form->body.find("<form method=\"post\" action=\"/login\">"), std::string::npos);
  EXPECT_EQ(form->body.find("<script"), std::string::npos);
  auto wrong = client.Post("/login", "token=nope", "application/x-www-form-urlencoded");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_FALSE(wrong->has_header("Set-Cookie"));
  auto right = client.Post("/login", "token=s3cret", "application/x-www-form-urlencoded");
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 303);
  EXPECT_EQ(right->get_header_value("Location"), "/");
  const std::string set = right->get_header_value("Set-Cookie");
  EXPECT_EQ(set.rfind("fedsmear_token=s3cret;", 0), 0u) << set;
  EXPECT_NE(set.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
  auto with_cookie = client.Get("/", {{"Cookie", "fedsmear_token=s3cret"}});
  ASSERT_TRUE(with_cookie);
  EXPECT_EQ(with_cookie->status, 200);
  EXPECT_EQ(with_cookie->body, "<p>page</p>");
  auto logout = client.Post("/logout", "", "application/x-www-form-urlencoded");
  ASSERT_TRUE(logout);
  EXPECT_NE(logout->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
}

TEST_F(HttpServerTest, EveryResponseCarriesTheSecurityHeaders) {
  auto server = Start(true, true);
  ASSERT_TRUE(server);
  httplib::Client client("127.0.0.1", server->port());
  for (const char* path : {"/", "/data", "/healthz", "/login", "/missing", "/data?token=x"}) {
    auto res = client.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->get_header_value("Content-Security-Policy"), kContentSecurityPolicy) << path;
    EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(res->get_header_value("Referrer-Policy"), "no-referrer") << path;
    EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store") << path;
  }
  const std::string csp = kContentSecurityPolicy;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos);
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
}

TEST_F(HttpServerTest, WithoutATokenEverythingIsServed) {
  auto server = Start(false, true);
  ASSERT_TRUE(server);
  httplib::Client client("127.0.0.1", server->port());
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  auto login = client.Get("/login");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 303) << "nothing to sign in to";
}

TEST_F(HttpServerTest, ItemRoutesPassOnlySafeSingleSegments) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  std::map<std::string, HttpHandler> routes;
  routes["/a.b"] = [] { return HttpResponse{200, "text/plain", "exact\n"}; };
  HttpServerOptions options;
  options.login_form = true;
  options.item_routes["/things/"] = [calls](const std::string& item) {
    ++*calls;
    return HttpResponse{200, "text/plain", "item " + item};
  };
  auto server = HttpServer::Start({true, "127.0.0.1:0", token_file_.string()}, std::move(routes),
                                  std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  const httplib::Headers auth = {{"Authorization", "Bearer s3cret"}};
  auto good = client.Get("/things/job-0001.x_y", auth);
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200);
  EXPECT_EQ(good->body, "item job-0001.x_y");
  EXPECT_EQ(*calls, 1);
  // Dot segments, separators (plain or encoded), markup, empty and over-long items never reach
  // the handler, and nothing of them is echoed.
  for (const std::string& path : std::vector<std::string>{
           "/things/..", "/things/.", "/things/%2e%2e", "/things/..%2F..%2Fetc%2Fpasswd",
        "/things/a%2Fb", "/things/a/b", "/things/", "/things/%3Cscript%3E", "/things/a%20b",
        "/things/" + std::string(65, 'a')}) {
    auto res = client.Get(path, auth);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    EXPECT_EQ(res->body.find("script"), std::string::npos) << path;
    EXPECT_EQ(res->body.find("passwd"), std::string::npos) << path;
  }
  EXPECT_EQ(*calls, 1);
  // Behind the token; a browser asking for a page is sent to the login form.
  auto anonymous = client.Get("/things/x");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto browser = client.Get("/things/x", {{"Accept", "text/html,application/xhtml+xml"}});
  ASSERT_TRUE(browser);
  EXPECT_EQ(browser->status, 303);
  EXPECT_EQ(browser->get_header_value("Location"), "/login");
  EXPECT_EQ(*calls, 1);
  // Exact routes match their path only (a "." in it is not a wildcard).
  auto exact = client.Get("/a.b", auth);
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->status, 200);
  auto near = client.Get("/axb", auth);
  ASSERT_TRUE(near);
  EXPECT_EQ(near->status, 404);
}

TEST(HttpPathItemTest, SafeItems) {
  EXPECT_TRUE(IsSafePathItem("job-0001"));
  EXPECT_TRUE(IsSafePathItem("a.b_c-D9"));
  for (const std::string bad : {"", ".", "..", "a/b", "a\\b", "a b", "<b>", "%2e", "\xc3\xa9"}) {
    EXPECT_FALSE(IsSafePathItem(bad)) << bad;
  }
  EXPECT_TRUE(IsSafePathItem(std::string(64, 'a')));
  EXPECT_FALSE(IsSafePathItem(std::string(65, 'a')));
}

}  // namespace
}  // namespace fedsmear
