// A small HTTP server for status pages and Prometheus scrapes (cpp-httplib underneath).
//
// Start() binds host:port from an HttpEndpointConfig (port 0 = any free port, see port()),
// reads the optional bearer token from token_file and serves GET routes on a background
// thread until the object is destroyed. With a token, every request must carry
// "Authorization: Bearer TOKEN" (or "?token=TOKEN", for a browser tab) or gets 401.
// Handlers run on the server's threads: they must be thread-safe.
//
// Thread-safety: handlers may run concurrently; the object itself is used from one thread.
// Ownership: owns the listening socket and its thread; the destructor stops and joins them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace fedsmear {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse()>;

class HttpServer {
 public:
  // Errors: a bad bind address, a port in use, an unreadable or empty token file.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpEndpointConfig& config,
                                                   std::map<std::string, HttpHandler> routes);
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
