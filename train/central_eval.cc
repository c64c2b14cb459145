#include "train/central_eval.h"

#include <spdlog/spdlog.h>

#include "train/engine_eval.h"

namespace fedsmear {

Result<std::unique_ptr<CentralEvaluator>> CentralEvaluator::Create(
    const std::vector<HoldoutSet>& sets, const std::vector<std::string>& class_names,
    int input_size, const PreprocessConfig& preprocess, const CentralEvalOptions& options) {
  auto e = std::unique_ptr<CentralEvaluator>(new CentralEvaluator());
  e->input_size_ = input_size;
  e->preprocess_ = preprocess;
  e->options_ = options;
  for (const HoldoutSet& s : sets) {
    Result<Dataset> d = OpenDataset(s.path, class_names);
    if (!d.ok()) return d.status().WithContext("held-out set " + s.name);
    if (d->samples.empty()) return NotFound("held-out set " + s.name + " has no usable images");
    spdlog::info("held-out set {}: {} images, {} skipped{}", s.name, d->samples.size(),
                 d->skipped.size(),
                 d->unknown_classes.empty() ? "" : ", unknown classes ignored");
    e->sets_.push_back({s.name, std::move(*d)});
  }
  return e;
}

Result<std::vector<HoldoutResult>> CentralEvaluator::Evaluate(const ModelState& state) const {
  ScoreOptions so;
  so.engine = options_.engine;
  so.input_size = input_size_;
  so.preprocess = preprocess_;
  so.threads = options_.threads;
  ASSIGN_OR_RETURN(StateScorer scorer, StateScorer::Create(state, nullptr, so));
  std::vector<HoldoutResult> out;
  for (const Set& s : sets_) {
    std::vector<size_t> all(s.data.samples.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    ASSIGN_OR_RETURN(EvalStats ev, scorer.Score(s.data, all));
    out.push_back({s.name, ev.loss, ev.confusion});
  }
  return out;
}

}  // namespace fedsmear
