// The coordinator's status endpoint: serves a StatusModel over HTTP when `status.enabled`.
//   /             the live page (coordinator/status/status_page.h), with /status.js, /status.css
//   /api/run      StatusModel::RunJson()
//   /api/rounds   StatusModel::RoundsJson()
//   /metrics      Prometheus text format (StatusModel::PrometheusText())
//   /healthz      "ok"
//   /login        the sign-in form that sets the token cookie (common/http/http_server.h)
// A long-lived coordinator (fedsmear-coordinator --jobs) starts one endpoint for the whole
// process (StartForJobs): it answers between jobs and while idle, /api/run, /api/rounds and
// /metrics follow the slot's model (the running job's, or the last one's final values; before
// the first job /api/run says "idle" and /metrics has the build, process and job metrics), and:
//   /api/jobs            the newest jobs and their states (coordinator/status/job_pages.h)
//   /jobs/<id>           the page of one job (the same document; its script reads the path)
//   /api/jobs/<id>       that job's run, rounds and sites, live or from its run folder
//   /metrics             also fedsmear_jobs{state}
// <id> must be a job id (job-NNNN, IsJobId) of a job in the listing; anything else is a 404 and
// no file is looked up for it.
// With status.token_file, every path but /healthz, /login and the two static files needs the
// token (Authorization: Bearer, or the login cookie); a token in the URL is refused.
// Thread-safety: requests are served on the HTTP server's threads; the model, the slot and the
// listing are thread-safe. Ownership: borrows the model, or the slot and the listing (which must
// outlive the service); owns the HTTP server.
#pragma once

#include <memory>

#include "common/config.h"
#include "common/http/http_server.h"
#include "common/status.h"
#include "coordinator/status/job_listing.h"
#include "coordinator/status/status_model.h"
#include "coordinator/status/status_slot.h"

namespace fedsmear {

class StatusService {
 public:
  // One run's endpoint (fedsmear-coordinator --config).
  static Result<std::unique_ptr<StatusService>> Start(const HttpEndpointConfig& config,
                                                      const StatusModel* model);
  // The jobs service's endpoint (fedsmear-coordinator --jobs), for the life of the process.
  static Result<std::unique_ptr<StatusService>> StartForJobs(const HttpEndpointConfig& config,
                                                             const StatusSlot* live,
                                                             const JobListing* jobs);
  int port() const { return server_->port(); }
  std::string url() const;

 private:
  explicit StatusService(std::unique_ptr<HttpServer> server) : server_(std::move(server)) {}
  std::unique_ptr<HttpServer> server_;
};

}  // namespace fedsmear
