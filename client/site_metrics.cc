#include "client/site_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <cmath>

#include "common/http/http_server.h"
#include "common/http/process_metrics.h"
#include "common/refusal_reason.h"

namespace fedsmear {

struct SiteMetrics::Impl {
  prometheus::Registry registry;
  prometheus::Counter* rounds_trained = nullptr;
  prometheus::Family<prometheus::Counter>* refusals = nullptr;
  prometheus::Counter* task_errors = nullptr;
  prometheus::Counter* evaluations = nullptr;
  prometheus::Gauge* training = nullptr;
  prometheus::Gauge* last_round = nullptr;
  prometheus::Gauge* last_train_seconds = nullptr;
  prometheus::Gauge* last_images_per_second = nullptr;
  // Accuracy series appear with the first round that measured them.
  prometheus::Family<prometheus::Gauge>* last_train_accuracy = nullptr;
  prometheus::Family<prometheus::Gauge>* last_val_accuracy = nullptr;
  prometheus::Counter* bytes_sent = nullptr;
  prometheus::Counter* bytes_received = nullptr;
  prometheus::Gauge* last_contact = nullptr;
  std::unique_ptr<HttpServer> server;  // last: stops before the metrics it reads go away
};

SiteMetrics::SiteMetrics(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SiteMetrics::~SiteMetrics() = default;

Result<std::unique_ptr<SiteMetrics>> SiteMetrics::Start(const ClientConfig& config,
                                                        int64_t num_train, int64_t num_val) {
  using namespace prometheus;
  auto impl = std::make_unique<Impl>();
  Registry& r = impl->registry;
  auto gauge = [&r](const char* name, const char* help) {
    return &BuildGauge().Name(name).Help(help).Register(r).Add({});
  };
  auto counter = [&r](const char* name, const char* help) {
    return &BuildCounter().Name(name).Help(help).Register(r).Add({});
  };
  impl->rounds_trained = counter("fedsmear_site_rounds_trained_total",
                                 "Rounds this site trained and answered with an update");
  impl->refusals = &BuildCounter().Name("fedsmear_site_refusals_total")
                        .Help("Tasks this site refused, by reason").Register(r);
  impl->task_errors = counter("fedsmear_site_task_errors_total", "Tasks that failed at this site");
  impl->evaluations = counter("fedsmear_site_evaluations_total",
                              "Global models this site scored on its validation split");
  impl->training = gauge("fedsmear_site_training", "1 while a training task runs");
  impl->last_round = gauge("fedsmear_site_last_round", "Round of the last update sent");
  impl->last_train_seconds = gauge("fedsmear_site_last_train_seconds",
                                   "Training time of the last round");
  impl->last_images_per_second = gauge("fedsmear_site_last_images_per_second",
                                       "Training images per second in the last round");
  impl->last_train_accuracy = &BuildGauge().Name("fedsmear_site_last_train_accuracy_ratio")
                                   .Help("Training accuracy (0-1) of the last round's last epoch")
                                   .Register(r);
  impl->last_val_accuracy = &BuildGauge().Name("fedsmear_site_last_val_accuracy_ratio")
                                 .Help("Local validation accuracy (0-1) after the last round")
                                 .Register(r);
  impl->bytes_sent = counter("fedsmear_site_sent_bytes_total", "Bytes sent to the coordinator");
  impl->bytes_received = counter("fedsmear_site_received_bytes_total",
                                 "Bytes received from the coordinator");
  impl->last_contact = gauge("fedsmear_site_last_contact_timestamp_seconds",
                             "Unix time of the last message from the coordinator");
  gauge("fedsmear_site_train_images", "Images in the site's training split")->Set(
      static_cast<double>(num_train));
  gauge("fedsmear_site_val_images", "Images in the site's validation split")->Set(
      static_cast<double>(num_val));
  std::unique_ptr<SiteMetrics> metrics(new SiteMetrics(std::move(impl)));
  const SiteMetrics* self = metrics.get();
  std::map<std::string, HttpHandler> routes;
  routes["/metrics"] = [self] {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", self->Text()};
  };
  Result<std::unique_ptr<HttpServer>> server = HttpServer::Start(config.metrics, std::move(routes));
  if (!server.ok()) return server.status().WithContext("site metrics (metrics.bind)");
  metrics->impl_->server = std::move(*server);
  return metrics;
}

void SiteMetrics::Sent(const wire::Body& body, size_t bytes) {
  Impl& m = *impl_;
  m.bytes_sent->Increment(static_cast<double>(bytes));
  if (const auto* u = std::get_if<wire::Update>(&body)) {
    m.rounds_trained->Increment();
    m.training->Set(0);
    m.last_round->Set(u->round);
    m.last_train_seconds->Set(u->metrics.train_seconds);
    if (std::isfinite(u->metrics.train_accuracy)) {
      m.last_train_accuracy->Add({}).Set(u->metrics.train_accuracy);
    }
    if (u->metrics.num_val > 0 && std::isfinite(u->metrics.val_accuracy)) {
      m.last_val_accuracy->Add({}).Set(u->metrics.val_accuracy);
    }
    // num_samples counts one epoch's images.
    if (u->metrics.train_seconds > 0) {
      m.last_images_per_second->Set(static_cast<double>(u->num_samples) /
                                    u->metrics.train_seconds);
    }
  } else if (const auto* r = std::get_if<wire::Refusal>(&body)) {
    m.refusals->Add({{"reason", RefusalReasonLabel(r->reason)}}).Increment();
  } else if (std::holds_alternative<wire::Error>(body)) {
    m.task_errors->Increment();
    m.training->Set(0);
  } else if (std::holds_alternative<wire::EvaluateResult>(body)) {
    m.evaluations->Increment();
  } else if (std::holds_alternative<wire::SecAggMasked>(body)) {
    m.rounds_trained->Increment();
    m.training->Set(0);
  }
}

void SiteMetrics::Received(const wire::Message& message, size_t bytes) {
  Impl& m = *impl_;
  m.bytes_received->Increment(static_cast<double>(bytes));
  m.last_contact->Set(std::chrono::duration<double>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count());
  if (std::holds_alternative<wire::TrainTask>(message.body)) m.training->Set(1);
}

std::string SiteMetrics::Text() const {
  return WithProcessMetrics(prometheus::TextSerializer().Serialize(impl_->registry.Collect()));
}

int SiteMetrics::port() const { return impl_->server ? impl_->server->port() : 0; }

}  // namespace fedsmear
