// A site's own Prometheus /metrics (config `metrics`), for the hospital's monitoring: rounds
// trained, refusals by reason, task errors, last round's training time, accuracy and speed,
// bytes exchanged and the time of the last message from the coordinator; with the build and
// process metrics of common/http/process_metrics.h. Names follow Prometheus' conventions
// (fedsmear_site_sent_bytes_total, accuracies as _ratio, absent until first measured).
//
// The site daemon reports every message it sends or receives (Sent/Received); nothing else is
// needed. Served on loopback by default; nothing about the patients' images is exposed beyond
// the counts the hello already tells the coordinator.
//
// Thread-safety: Sent/Received from the site's loop; scrapes on the HTTP server's threads
// (prometheus-cpp metrics are thread-safe). Ownership: owns its registry and HTTP server.
#pragma once

#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "common/wire/messages.h"

namespace fedsmear {

class SiteMetrics {
 public:
  // Starts the endpoint at config.metrics (call only when config.metrics.enabled).
  static Result<std::unique_ptr<SiteMetrics>> Start(const ClientConfig& config, int64_t num_train,
                                                    int64_t num_val);
  ~SiteMetrics();

  void Sent(const wire::Body& body, size_t bytes);
  void Received(const wire::Message& message, size_t bytes);
  std::string Text() const;  // the Prometheus exposition
  int port() const;

 private:
  struct Impl;
  explicit SiteMetrics(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fedsmear
