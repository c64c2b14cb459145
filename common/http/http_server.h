// A small HTTP server for status pages and Prometheus scrapes (cpp-httplib underneath).
//
// Start() binds host:port from an HttpEndpointConfig (port 0 = any free port, see port()),
// reads the optional bearer token from token_file and serves GET routes on a background
// thread until the object is destroyed. A route is an exact path, or an item route: one path
// segment under a prefix ("/jobs/" serves /jobs/ITEM), whose ITEM is 1-64 characters of
// [A-Za-z0-9._-] other than "." and ".." (anything else, "/" or "%2F" included, is a 404 that
// never reaches the handler; the handler still checks what the item means).
//
// With a token, a route answers only a request that carries it as "Authorization: Bearer
// TOKEN" or in the HttpOnly, SameSite=Strict cookie that the login form (options.login_form:
// GET/POST /login, POST /logout) sets; otherwise 401, or a redirect to /login for "/" and for
// a browser asking for a page (Accept: text/html). Paths in
// options.open_paths need no token (/healthz, static scripts). A token in the query string is
// refused with 400 on every path, whether or not it is right (common/http/http_auth.h says why).
// Every response carries a strict Content-Security-Policy (scripts, styles and fetches from
// this origin only; no inline script or style, no framing), nosniff, no-referrer and
// no-store.
//
// Thread-safety: handlers may run concurrently and must be thread-safe; the object itself is
// used from one thread. Ownership: owns the listening socket and its thread; the destructor
// stops and joins them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace fedsmear {

// The Content-Security-Policy every response carries.
inline constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {};  // further headers
};

using HttpHandler = std::function<HttpResponse()>;
// An item route's handler, given the (already charset-checked) item.
using HttpItemHandler = std::function<HttpResponse(const std::string& item)>;

struct HttpServerOptions {
  std::set<std::string> open_paths;  // served without the token
  bool login_form = false;           // GET/POST /login, POST /logout for browsers
  // prefix ending in "/" -> handler of PREFIX + ITEM (always behind the token, when there is one)
  std::map<std::string, HttpItemHandler> item_routes;
};

// True for an item route's item: 1-64 characters of [A-Za-z0-9._-], not "." or "..".
bool IsSafePathItem(const std::string& item);

class HttpServer {
 public:
  // Errors: a bad bind address, a port in use, an unreadable or empty token file.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpEndpointConfig& config,
                                                   std::map<std::string, HttpHandler> routes,
                                                   HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  std::string host() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Splits "host:port" (the port may be 0). Errors: no colon, a port outside 0-65535.
Result<std::pair<std::string, int>> ParseHostPort(const std::string& bind);

}  // namespace fedsmear
