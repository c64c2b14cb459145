#include "coordinator/strategy.h"

#include "coordinator/aggregate.h"
#include "coordinator/strategies.h"
#include "coordinator/vote.h"

namespace fedsmear {

std::vector<TrainInstruction> Strategy::ConfigureTrain(int /*round*/,
                                                       const std::vector<SiteInfo>& available,
                                                       const TrainConfig& base,
                                                       double learning_rate,
                                                       std::mt19937_64& rng) {
  std::vector<TrainInstruction> out;
  for (size_t i : SampleSites(available.size(), fraction_, min_sites_, rng)) {
    TrainInstruction t{available[i].site_id, base};
    t.config.learning_rate = learning_rate;
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::string> Strategy::ConfigureEvaluate(int /*round*/,
                                                     const std::vector<SiteInfo>& available) {
  std::vector<std::string> ids;
  for (const SiteInfo& s : available) {
    if (s.num_val > 0) ids.push_back(s.site_id);
  }
  return ids;
}

EvalSummary Strategy::AggregateEvaluate(int /*round*/, const std::vector<EvalReport>& reports,
                                        const std::vector<SiteFailure>& /*failures*/) {
  EvalSummary s;
  double loss = 0, acc = 0;
  for (const EvalReport& r : reports) {
    if (r.num_samples == 0) continue;
    s.num_samples += r.num_samples;
    loss += r.loss * static_cast<double>(r.num_samples);
    acc += r.accuracy * static_cast<double>(r.num_samples);
    ++s.sites;
  }
  if (s.num_samples > 0) {
    s.loss = loss / static_cast<double>(s.num_samples);
    s.accuracy = acc / static_cast<double>(s.num_samples);
  }
  return s;
}

Result<std::unique_ptr<Strategy>> MakeStrategy(const CoordinatorConfig& c) {
  std::unique_ptr<Strategy> s;
  if (c.strategy == "fedavg") {
    s = std::make_unique<FedAvg>(c.fraction, c.min_sites, c.aggregation_threads);
  } else if (c.strategy == "fedprox") {
    s = std::make_unique<FedProx>(c.fraction, c.min_sites, c.train.fedprox_mu,
                                  c.aggregation_threads);
  } else if (c.strategy == "fedadam") {
    FedAdamParams p;
    p.lr = c.server_lr;
    s = std::make_unique<FedAdam>(c.fraction, c.min_sites, p, c.aggregation_threads);
  } else if (c.strategy == "fedvote") {
    s = std::make_unique<SignVoteStrategy>(c.fraction, c.min_sites, c.vote_momentum);
  } else {
    return InvalidArgument("unknown strategy '" + c.strategy + "'");
  }
  return s;
}

}  // namespace fedsmear
