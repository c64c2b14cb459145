// The coordinator's status endpoint: serves a StatusModel over HTTP when `status.enabled`.
//   /             the live page (coordinator/status/status_page.h), with /status.js, /status.css
//   /api/run      StatusModel::RunJson()
//   /api/rounds   StatusModel::RoundsJson()
//   /metrics      Prometheus text format (StatusModel::PrometheusText())
//   /healthz      "ok"
//   /login        the sign-in form that sets the token cookie (common/http/http_server.h)
// With status.token_file, every path but /healthz, /login and the two static files needs the
// token (Authorization: Bearer, or the login cookie); a token in the URL is refused.
// Thread-safety: requests are served on the HTTP server's threads; the model is thread-safe.
// Ownership: borrows the model (which must outlive the service); owns the HTTP server.
#pragma once

#include <memory>

#include "common/config.h"
#include "common/http/http_server.h"
#include "common/status.h"
#include "coordinator/status/status_model.h"

namespace fedsmear {

class StatusService {
 public:
  static Result<std::unique_ptr<StatusService>> Start(const HttpEndpointConfig& config,
                                                      const StatusModel* model);
  int port() const { return server_->port(); }
  std::string url() const;

 private:
  explicit StatusService(std::unique_ptr<HttpServer> server) : server_(std::move(server)) {}
  std::unique_ptr<HttpServer> server_;
};

}  // namespace fedsmear
