#include "coordinator/status/status_model.h"

#include "common/http/process_metrics.h"
#include "common/refusal_reason.h"
#include "coordinator/status/status_metrics.h"
#include "report/round_record.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace fedsmear {
namespace {

using SysClock = std::chrono::system_clock;
using MonoClock = std::chrono::steady_clock;
constexpr size_t kMaxEvents = 50;

double UnixSeconds(SysClock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// What kind of failure a round recorded (see TrainRound: the Status code tells).
std::string FailureKind(const Status& st) {
  switch (st.code()) {
    case StatusCode::kPermissionDenied: return "refused";
    case StatusCode::kTimeout: return "deadline";
    case StatusCode::kUnavailable: return "dropped";
    default: return "failed";
  }
}

double NumberOr(const nlohmann::ordered_json& j, const char* key, double fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

// A metrics.jsonl line without the per-class tables and confusion matrices (the page plots
// the headline numbers; report.html has the rest).
nlohmann::ordered_json Compact(const nlohmann::ordered_json& line) {
  nlohmann::ordered_json out = line;
  if (auto c = out.find("central"); c != out.end() && c->is_object()) {
    for (auto& [name, set] : c->items()) {
      if (!set.is_object()) continue;
      set.erase("per_class");
      set.erase("confusion");
    }
  }
  return out;
}

}  // namespace


StatusModel::StatusModel(StatusRunInfo info)
    : info_(std::move(info)),
      started_(SysClock::now()),
      stage_since_(started_),
      registry_(std::make_shared<prometheus::Registry>()),
      metrics_(std::make_unique<StatusMetrics>(*registry_)) {
  StatusMetrics& m = *metrics_;
  m.rounds_planned->Set(info_.rounds_planned);
  m.round_deadline->Set(info_.round_deadline_s);
  m.run_start_time->Set(UnixSeconds(started_));
  SetRunId(info_.run_id);
}

StatusModel::~StatusModel() = default;

void StatusModel::SetRunId(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  info_.run_id = run_id;
  StatusMetrics& m = *metrics_;
  if (m.run_info_current) m.run_info->Remove(m.run_info_current);
  m.run_info_current = &m.run_info->Add({{"run_id", run_id},
                                         {"strategy", info_.strategy},
                                         {"codec_down", info_.codec_down},
                                         {"codec_up", info_.codec_up}});
  m.run_info_current->Set(1);
}

void StatusModel::SetStage(int round, const std::string& stage, const std::string& detail) {
  std::lock_guard<std::mutex> lock(mu_);
  if (round > 0) round_ = round;
  if (stage != stage_) stage_since_ = SysClock::now();
  stage_ = stage;
  detail_ = detail;
  metrics_->current_round->Set(round_);
}

void StatusModel::SiteJoined(const std::string& site, int64_t num_train, int64_t num_val) {
  std::lock_guard<std::mutex> lock(mu_);
  SiteState& s = sites_[site];
  s.num_train = num_train;
  s.num_val = num_val;
  s.last_seen = SysClock::now();
  s.last_seen_mono = MonoClock::now();
  metrics_->sites_registered->Set(static_cast<double>(sites_.size()));
}

void StatusModel::SiteSeen(const std::string& site) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sites_.find(site);
  if (it == sites_.end()) return;
  it->second.last_seen = SysClock::now();
  it->second.last_seen_mono = MonoClock::now();
}

void StatusModel::RoundStarted(int round, const std::vector<std::string>& selected) {
  std::lock_guard<std::mutex> lock(mu_);
  round_ = round;
  selected_ = selected;
  round_in_progress_ = true;
  round_started_ = SysClock::now();
  metrics_->round_in_progress->Set(1);
  metrics_->round_started->Set(UnixSeconds(round_started_));
  for (const std::string& id : selected) {
    auto it = sites_.find(id);
    if (it == sites_.end()) continue;
    it->second.state = "training";
    it->second.detail = "round " + std::to_string(round);
  }
  metrics_->current_round->Set(round);
  metrics_->sites_selected->Set(static_cast<double>(selected.size()));
}

void StatusModel::SetSiteState(const std::string& site, const std::string& state,
                               const std::string& detail) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sites_.find(site);
  if (it == sites_.end()) return;
  it->second.state = state;
  it->second.detail = detail;
}

void StatusModel::RunEnded(const Status& result) {
  const std::string stage = result.ok() ? "complete"
                            : result.code() == StatusCode::kAborted ? "stopped"
                                                                    : "failed";
  SetStage(0, stage, result.ok() ? "" : result.message());
  std::lock_guard<std::mutex> lock(mu_);
  round_in_progress_ = false;
  metrics_->round_in_progress->Set(0);
  metrics_->run_ended->Set(1);
}

void StatusModel::CountFailuresLocked(int round, const std::vector<SiteFailure>& failures) {
  for (const SiteFailure& f : failures) {
    const std::string kind = FailureKind(f.reason);
    metrics_->failures->Add({{"kind", kind}}).Increment();
    if (kind == "refused") {
      metrics_->refusals->Add({{"reason", RefusalReasonLabel(f.reason.message())}}).Increment();
    }
    auto it = sites_.find(f.site_id);
    if (it != sites_.end()) {
      it->second.state = kind;
      it->second.detail = f.reason.message();
    }
    events_.push_back({{"time", UnixSeconds(SysClock::now())},
                       {"round", round},
                       {"site", f.site_id},
                       {"kind", kind},
                       {"reason", f.reason.message()}});
  }
  if (events_.size() > kMaxEvents) {
    events_.erase(events_.begin(), events_.end() - static_cast<std::ptrdiff_t>(kMaxEvents));
  }
}

void StatusModel::RoundFinished(const nlohmann::ordered_json& line,
                                const std::vector<SiteFailure>& failures, bool completed) {
  std::lock_guard<std::mutex> lock(mu_);
  StatusMetrics& m = *metrics_;
  const int round = line.value("round", round_);
  CountFailuresLocked(round, failures);
  round_in_progress_ = false;
  m.round_in_progress->Set(0);
  if (!completed) {
    m.rounds_incomplete->Increment();
    for (auto& [id, s] : sites_) {
      if (s.state == "training") s.state = "idle";
    }
    return;
  }
  nlohmann::ordered_json rec = Compact(line);
  int refusals = 0, dropouts = 0;
  for (const SiteFailure& f : failures) {
    const std::string kind = FailureKind(f.reason);
    refusals += kind == "refused";
    dropouts += kind == "deadline" || kind == "dropped";
  }
  rec["refusals"] = refusals;
  rec["dropouts"] = dropouts;
  rounds_.push_back(rec);
  m.rounds_completed->Increment();
  const double round_s = NumberOr(line, "round_s", 0);
  m.round_duration->Observe(round_s);
  m.last_round_duration->Set(round_s);
  m.bytes_sent->Increment(NumberOr(line, "bytes_down", 0) + NumberOr(line, "bytes_eval_down", 0));
  m.bytes_received->Increment(NumberOr(line, "bytes_up", 0));
  std::set<std::string> reported;
  if (auto it = line.find("sites_reported"); it != line.end() && it->is_array()) {
    for (const auto& id : *it) {
      if (id.is_string()) reported.insert(id.get<std::string>());
    }
  }
  m.sites_reported->Set(static_cast<double>(reported.size()));
  // The images each site announced: a resumed or finished run's page has no hellos to read.
  if (auto it = line.find("site_images"); it != line.end() && it->is_object()) {
    for (const auto& [id, counts] : it->items()) {
      if (!counts.is_object()) continue;
      SiteState& site = sites_[id];
      site.num_train = counts.value("train", site.num_train);
      site.num_val = counts.value("val", site.num_val);
    }
    m.sites_registered->Set(static_cast<double>(sites_.size()));
  }
  for (auto& [id, s] : sites_) {
    if (reported.count(id)) {
      s.state = "reported";
      s.detail = "round " + std::to_string(round);
      ++s.rounds_reported;
    } else if (s.state == "training") {
      s.state = "idle";
    }
  }
  if (auto a = line.find("accuracy"); a != line.end() && a->is_number()) {
    m.central_accuracy->Add({}).Set(a->get<double>());
    if (auto f = line.find("macro_f1"); f != line.end() && f->is_number()) {
      m.central_macro_f1->Add({}).Set(f->get<double>());
    }
  }
  if (auto c = line.find("central"); c != line.end() && c->is_object()) {
    for (const auto& [name, set] : c->items()) {
      if (auto a = set.find("accuracy"); a != set.end() && a->is_number()) {
        m.holdout_accuracy->Add({{"holdout", name}}).Set(a->get<double>());
      }
      if (auto f = set.find("macro_f1"); f != set.end() && f->is_number()) {
        m.holdout_macro_f1->Add({{"holdout", name}}).Set(f->get<double>());
      }
    }
  }
}

void StatusModel::LoadHistory(const std::string& metrics_jsonl) {
  std::istringstream in(metrics_jsonl);
  std::string text;
  for (int line_no = 1; std::getline(in, text); ++line_no) {
    Result<RoundRecord> rec = ParseRoundRecord(text, line_no);
    if (!rec.ok()) continue;
    RoundFinished(ToJson(*rec), {});
    std::lock_guard<std::mutex> lock(mu_);
    round_ = std::max(round_, rec->round);
  }
}

bool StatusModel::Connected(const SiteState& s, MonoClock::time_point now) const {
  return now - s.last_seen_mono < std::chrono::duration<double>(3 * info_.heartbeat_s);
}

nlohmann::json StatusModel::RunJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = SysClock::now();
  const auto mono = MonoClock::now();
  nlohmann::json sites = nlohmann::json::array();
  int connected = 0;
  for (const auto& [id, s] : sites_) {
    const bool up = Connected(s, mono);
    const bool never = s.last_seen_mono == MonoClock::time_point{};
    connected += up;
    sites.push_back({{"site", id},
                     {"connected", up},
                     {"state", up ? s.state : "disconnected"},
                     {"detail", s.detail},
                     // null: not heard from by this process (a finished or resumed run's site)
                     {"last_seen", never ? nlohmann::json(nullptr)
                                         : nlohmann::json(UnixSeconds(s.last_seen))},
                     {"last_seen_s_ago",
                      never ? nlohmann::json(nullptr)
                            : nlohmann::json(
                                  std::chrono::duration<double>(mono - s.last_seen_mono).count())},
                     {"num_train", s.num_train},
                     {"num_val", s.num_val},
                     {"rounds_reported", s.rounds_reported}});
  }
  int refusals = 0, dropouts = 0;
  double bytes_down = 0, bytes_up = 0;
  for (const auto& r : rounds_) {
    refusals += r.value("refusals", 0);
    dropouts += r.value("dropouts", 0);
    bytes_down += NumberOr(r, "bytes_down", 0) + NumberOr(r, "bytes_eval_down", 0);
    bytes_up += NumberOr(r, "bytes_up", 0);
  }
  return {{"run_id", info_.run_id},
          {"strategy", info_.strategy},
          {"codec_down", info_.codec_down},
          {"codec_up", info_.codec_up},
          {"secure_aggregation", info_.secure_aggregation},
          {"rounds_planned", info_.rounds_planned},
          {"min_sites", info_.min_sites},
          {"round", round_},
          {"stage", stage_},
          {"detail", detail_},
          {"stage_since", UnixSeconds(stage_since_)},
          {"started", UnixSeconds(started_)},
          {"now", UnixSeconds(now)},
          {"rounds_completed", rounds_.size()},
          {"selected", selected_},
          {"sites_connected", connected},
          {"sites", sites},
          {"refusals", refusals},
          {"dropouts", dropouts},
          {"bytes_sent", bytes_down},
          {"bytes_received", bytes_up},
          {"events", events_}};
}

nlohmann::json StatusModel::RoundsJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json rounds = nlohmann::json::array();
  std::set<std::string> holdouts;
  for (const auto& r : rounds_) {
    rounds.push_back(nlohmann::json::parse(r.dump()));
    if (auto c = r.find("central"); c != r.end() && c->is_object()) {
      for (const auto& [name, set] : c->items()) holdouts.insert(name);
    }
  }
  return {{"run_id", info_.run_id}, {"holdouts", holdouts}, {"rounds", rounds}};
}

std::string StatusModel::PrometheusText() const {
  using prometheus::ClientMetric;
  using prometheus::MetricType;
  prometheus::MetricFamily up{"fedsmear_site_up",
                              "1 when the site was heard from within 3 heartbeat intervals",
                              MetricType::Gauge, {}};
  prometheus::MetricFamily seen{"fedsmear_site_last_seen_timestamp_seconds",
                                "Unix time of the last message from the site",
                                MetricType::Gauge, {}};
  prometheus::MetricFamily reported{"fedsmear_site_rounds_reported_total",
                                    "Rounds in which the site's update was aggregated",
                                    MetricType::Counter, {}};
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto mono = MonoClock::now();
    int connected = 0;
    for (const auto& [id, s] : sites_) {
      const bool is_up = Connected(s, mono);
      connected += is_up;
      ClientMetric m;
      m.label = {{"site", id}};
      m.gauge.value = is_up ? 1 : 0;
      up.metric.push_back(m);
      m.gauge.value = UnixSeconds(s.last_seen);
      // A site this process never heard from (a resumed run's) has no time, not 0.
      if (s.last_seen_mono != MonoClock::time_point{}) seen.metric.push_back(m);
      m.gauge.value = 0;
      m.counter.value = s.rounds_reported;
      reported.metric.push_back(m);
    }
    metrics_->sites_connected->Set(connected);
  }
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (auto* f : {&up, &seen, &reported}) {
    if (!f->metric.empty()) families.push_back(std::move(*f));
  }
  return WithProcessMetrics(prometheus::TextSerializer().Serialize(families));
}

}  // namespace fedsmear
