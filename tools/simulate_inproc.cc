// RunInProcess: the coordinator and every site of a simulation as threads of this process, over
// the in-process transport (common/net/inproc_transport.h) instead of processes and sockets.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "client/site.h"
#include "client/work_gate.h"
#include "common/net/inproc_transport.h"
#include "coordinator/server.h"
#include "coordinator/strategy_registry.h"
#include "report/rounds_table.h"
#include "secagg/verify_memo.h"
#include "tools/simulate.h"
#include "train/central_eval.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// One site daemon on its own thread.
struct SiteThread {
  std::string id;
  std::unique_ptr<Site> site;
  std::unique_ptr<SiteTransport> transport;
  std::atomic<bool> stop{false};
  Status result = Status::Ok();
  std::thread thread;
};

// Every `count`-th site, spread over the federation (never site-1).
std::set<std::string> DropoutSites(int sites, int count) {
  std::set<std::string> out;
  if (count <= 0) return out;
  const int step = std::max(1, sites / (count + 1));
  for (int k = 1; k <= count && k * step <= sites; ++k) {
    out.insert("site-" + std::to_string(std::max(2, k * step)));
  }
  return out;
}

// Whether `bytes` (coordinator -> site) is the message after which a dropout leaves in `round`:
// the relayed key shares under SecAgg+ (the site then holds shares of its peers but never
// sends its masked update, which the survivors recover), else its training task.
bool IsDropoutPoint(std::string_view bytes, int round, bool secure) {
  Result<wire::Message> m = wire::Decode(bytes);
  if (!m.ok()) return false;
  if (secure) {
    auto* r = std::get_if<wire::SecAggSharesRelay>(&m->body);
    return r != nullptr && static_cast<int>(r->round) == round;
  }
  auto* t = std::get_if<wire::TrainTask>(&m->body);
  return t != nullptr && static_cast<int>(t->round) == round;
}

}  // namespace

Status RunInProcess(const SimPlan& plan, const InProcessOptions& options,
                    const std::atomic<bool>& stop) {
  const auto started = Clock::now();
  ASSIGN_OR_RETURN(CoordinatorConfig c, LoadCoordinatorConfig(plan.coordinator_config));
  const bool secure = c.secure_aggregation == SecureAggregation::kSecAggPlus;
  // One process, many parties: audit entries are not synced one by one (see audit_sync in
  // configs/), and the sites share their SecAgg+ signature checks (secagg/verify_memo.h).
  c.audit_sync = false;
  auto memo = std::make_shared<secagg::VerifyMemo>();
  ASSIGN_OR_RETURN(std::unique_ptr<Strategy> strategy, MakeStrategy(c));
  ASSIGN_OR_RETURN(std::unique_ptr<CentralEvaluator> evaluator,
                   CentralEvaluator::Create(c.holdout, c.model.class_names, c.model.input_size,
                                            c.preprocess, CentralEvalOptions{c.eval_engine, 1}));
  InprocHub hub;
  ASSIGN_OR_RETURN(std::unique_ptr<ServerTransport> server, hub.Serve());
  ASSIGN_OR_RETURN(std::unique_ptr<Coordinator> coordinator,
                   Coordinator::Create(c, std::move(strategy), std::move(evaluator),
                                       /*resume=*/false, std::move(server)));

  const int cores = MachineCores();
  auto gate = std::make_shared<WorkGate>(options.parallel > 0 ? options.parallel : cores);
  std::vector<std::unique_ptr<SiteThread>> sites;
  for (const std::string& path : plan.site_configs) {
    ASSIGN_OR_RETURN(ClientConfig sc, LoadClientConfig(path));
    sc.audit_sync = false;
    auto t = std::make_unique<SiteThread>();
    t->id = sc.site_id;
    ASSIGN_OR_RETURN(t->site, Site::Create(sc));
    t->site->set_work_gate(gate);
    t->site->set_verify_memo(memo);
    sites.push_back(std::move(t));
  }
  const double setup_s = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf("in-process: %zu site threads, %d training at once, setup %.1f s\n", sites.size(),
              options.parallel > 0 ? options.parallel : cores, setup_s);

  // Dropouts: the hub drops the chosen sites' connections at their dropout point.
  std::map<std::string, SiteThread*> by_id;
  for (auto& t : sites) by_id[t->id] = t.get();
  const std::set<std::string> dropouts = DropoutSites(static_cast<int>(sites.size()),
                                                      options.dropouts);
  std::atomic<int> dropped{0};
  if (!dropouts.empty()) {
    std::printf("dropouts in round %d: %zu site(s)\n", options.dropout_round, dropouts.size());
    hub.SetFilter([&](InprocDirection d, const std::string& site, std::string_view bytes) {
      if (d != InprocDirection::kToSite || !dropouts.count(site)) return true;
      SiteThread* t = by_id.at(site);
      if (t->stop.load()) return false;
      if (!IsDropoutPoint(bytes, options.dropout_round, secure)) return true;
      spdlog::warn("simulation: site {} drops out", site);
      t->stop.store(true);
      ++dropped;
      return false;
    });
  }

  Status coordinator_status = Status::Ok();
  std::atomic<bool> running{true};
  std::thread coordinator_thread([&] {
    coordinator_status = coordinator->Run(stop);
    running.store(false);
  });
  for (auto& t : sites) {
    t->transport = hub.Connect(t->id);
    SiteThread* raw = t.get();
    t->thread = std::thread([raw] { raw->result = raw->site->Serve(*raw->transport, raw->stop); });
  }

  // One line per round in RUN_DIR/inprocess.jsonl: the round's time, the wall time during which
  // sites trained (at most `parallel` at once), and the difference, the round's overhead.
  const fs::path run(plan.run_dir);
  RoundsTable table(run / "metrics.jsonl");
  std::ofstream timing(run / "inprocess.jsonl", std::ios::trunc);
  int done = 0;
  double busy_before = 0;
  auto record = [&] {
    const int d = table.Poll();
    if (d <= done) return;
    const double busy = gate->busy_seconds();
    std::ifstream in(run / "metrics.jsonl");
    std::string line, last;
    while (std::getline(in, line)) {
      if (!line.empty()) last = line;
    }
    auto j = nlohmann::json::parse(last, nullptr, false);
    const double round_s = j.is_discarded() ? 0 : j.value("round_s", 0.0);
    nlohmann::json out = {{"round", d},
                          {"sites", sites.size()},
                          {"round_s", round_s},
                          {"train_busy_s", busy - busy_before},
                          {"overhead_s", round_s - (busy - busy_before)},
                          {"reported", j.is_discarded() ? 0 : j["sites_reported"].size()}};
    timing << out.dump() << "\n" << std::flush;
    std::printf("round %d: %.1f s, sites trained during %.1f s, overhead %.1f s\n", d, round_s,
                busy - busy_before, round_s - (busy - busy_before));
    busy_before = busy;
    done = d;
  };
  while (running.load()) {
    std::this_thread::sleep_for(milliseconds(200));
    record();
  }
  coordinator_thread.join();
  record();
  // Sites that heard the goodbye have ended; stop the rest (dropouts, late joiners).
  for (auto& t : sites) t->stop.store(true);
  for (auto& t : sites) t->thread.join();
  std::printf("in-process run: %.1f s in all, %d dropout(s); Ed25519 verifications: %zu computed, "
              "%zu shared\n",
              std::chrono::duration<double>(Clock::now() - started).count(), dropped.load(),
              memo->computed(), memo->remembered());
  return coordinator_status;
}

}  // namespace fedsmear
