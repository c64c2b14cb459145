// The site's own /metrics: what it counts from the messages the site sends and receives.
#include "client/site_metrics.h"

#include "common/http/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>
#include <sstream>

namespace fedsmear {
namespace {

double Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l.rfind(series + " ", 0) == 0) return std::stod(l.substr(series.size() + 1));
  }
  return std::nan("");
}

TEST(SiteMetricsTest, CountsRoundsRefusalsAndBytesOverHttp) {
  ClientConfig c;
  c.site_id = "site-1";
  c.metrics = {true, "127.0.0.1:0", ""};
  auto m = SiteMetrics::Start(c, 900, 100);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_GT((*m)->port(), 0);
  wire::Message task;
  task.body.emplace<wire::TrainTask>();  // in place: GCC 12 misreads a moved temporary
  (*m)->Received(task, 5000);
  EXPECT_EQ(Sample((*m)->Text(), "fedsmear_site_training"), 1);
  EXPECT_TRUE(std::isnan(Sample((*m)->Text(), "fedsmear_site_last_val_accuracy_ratio")))
      << "no accuracy before a round measured one";
  wire::Update u;
  u.round = 3;
  u.num_samples = 900;
  u.metrics.train_seconds = 4.5;
  u.metrics.train_accuracy = 0.75;
  u.metrics.val_accuracy = 0.7;
  u.metrics.num_val = 100;
  (*m)->Sent(u, 4000);
  (*m)->Sent(wire::Refusal{7, 4, "task asks for 30 local epochs; site policy allows 20"}, 100);

  httplib::Client client("127.0.0.1", (*m)->port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const std::string& t = res->body;
  EXPECT_EQ(Sample(t, "fedsmear_site_rounds_trained_total"), 1);
  EXPECT_EQ(Sample(t, "fedsmear_site_training"), 0);
  EXPECT_EQ(Sample(t, "fedsmear_site_last_round"), 3);
  EXPECT_EQ(Sample(t, "fedsmear_site_last_images_per_second"), 200);
  EXPECT_EQ(Sample(t, "fedsmear_site_last_val_accuracy_ratio"), 0.7);
  EXPECT_EQ(Sample(t, "fedsmear_site_last_train_accuracy_ratio"), 0.75);
  EXPECT_EQ(Sample(t, "fedsmear_site_refusals_total{reason=\"policy_epochs\"}"), 1);
  EXPECT_EQ(Sample(t, "fedsmear_site_sent_bytes_total"), 4100);
  EXPECT_EQ(Sample(t, "fedsmear_site_received_bytes_total"), 5000);
  EXPECT_EQ(Sample(t, "fedsmear_site_train_images"), 900);
  EXPECT_GT(Sample(t, "fedsmear_site_last_contact_timestamp_seconds"), 1.7e9);
  EXPECT_NE(t.find("fedsmear_build_info{version=\""), std::string::npos);
  EXPECT_GT(Sample(t, "process_start_time_seconds"), 1.7e9);
  EXPECT_GT(Sample(t, "process_open_fds"), 0);
  EXPECT_EQ(res->get_header_value("Content-Security-Policy"), kContentSecurityPolicy);
}

TEST(SiteMetricsTest, PlanRefusalsAreLabelledAndTheTokenIsNeverInTheUrl) {
  ClientConfig c;
  c.metrics = {true, "127.0.0.1:0", ""};
  auto m = SiteMetrics::Start(c, 1, 1);
  ASSERT_TRUE(m.ok()) << m.status();
  (*m)->Sent(wire::Refusal{1, 1, "training plan ab12 is not approved at this site; review it"},
             10);
  EXPECT_EQ(Sample((*m)->Text(), "fedsmear_site_refusals_total{reason=\"plan_not_approved\"}"), 1);
  httplib::Client client("127.0.0.1", (*m)->port());
  auto query = client.Get("/metrics?token=x");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->status, 400);
}

TEST(SiteMetricsTest, PortInUseIsAClearError) {
  ClientConfig c;
  c.metrics = {true, "127.0.0.1:0", ""};
  auto first = SiteMetrics::Start(c, 1, 1);
  ASSERT_TRUE(first.ok());
  c.metrics.bind = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = SiteMetrics::Start(c, 1, 1);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("metrics.bind"), std::string::npos)
      << second.status();
}

}  // namespace
}  // namespace fedsmear
