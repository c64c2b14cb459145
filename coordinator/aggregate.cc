#include "coordinator/aggregate.h"

#include <cmath>

namespace fedsmear {

WeightedAccumulator::WeightedAccumulator(const ModelState& layout) : layout_(layout) {
  sums_.reserve(layout_.tensors.size());
  for (NamedTensor& t : layout_.tensors) {
    sums_.emplace_back(t.values.size(), 0.0);
    t.values.clear();
    t.values.shrink_to_fit();
  }
}

Status WeightedAccumulator::Add(const ModelState& state, double weight) {
  if (!(weight > 0) || !std::isfinite(weight)) {
    return InvalidArgument("update weight must be a positive number");
  }
  if (state.tensors.size() != layout_.tensors.size()) {
    return InvalidArgument("update has " + std::to_string(state.tensors.size()) +
                           " tensors, expected " + std::to_string(layout_.tensors.size()));
  }
  if (state.meta.arch != layout_.meta.arch || state.meta.classes != layout_.meta.classes) {
    return InvalidArgument("update is for " + state.meta.arch + " with " +
                           std::to_string(state.meta.classes) + " classes, expected " +
                           layout_.meta.arch + " with " + std::to_string(layout_.meta.classes));
  }
  for (size_t i = 0; i < state.tensors.size(); ++i) {
    const NamedTensor& t = state.tensors[i];
    const NamedTensor& l = layout_.tensors[i];
    if (t.name != l.name || t.shape != l.shape || t.values.size() != sums_[i].size()) {
      return InvalidArgument("update tensor " + t.name + " does not match " + l.name);
    }
  }
  RETURN_IF_ERROR(CheckFinite(state));
  for (size_t i = 0; i < state.tensors.size(); ++i) {
    const float* src = state.tensors[i].values.data();
    double* dst = sums_[i].data();
    const size_t n = sums_[i].size();
    for (size_t k = 0; k < n; ++k) dst[k] += weight * src[k];
  }
  total_weight_ += weight;
  ++count_;
  return Status::Ok();
}

Result<ModelState> WeightedAccumulator::Mean() const {
  if (count_ == 0) return FailedPrecondition("no update to average");
  ModelState out = layout_;
  const double inv = 1.0 / total_weight_;
  for (size_t i = 0; i < out.tensors.size(); ++i) {
    std::vector<float>& v = out.tensors[i].values;
    v.resize(sums_[i].size());
    for (size_t k = 0; k < v.size(); ++k) v[k] = static_cast<float>(sums_[i][k] * inv);
  }
  return out;
}

Status FedAdamStep(const ModelState& mean, const FedAdamParams& p, FedAdamState* state,
                   ModelState* global) {
  RETURN_IF_ERROR(CheckSameLayout(*global, mean));
  const size_t n = global->tensors.size();
  if (state->m.size() != n) {
    state->m.assign(n, {});
    state->v.assign(n, {});
    for (size_t i = 0; i < n; ++i) {
      state->m[i].assign(global->tensors[i].values.size(), 0.f);
      state->v[i].assign(global->tensors[i].values.size(), 0.f);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    NamedTensor& g = global->tensors[i];
    const std::vector<float>& avg = mean.tensors[i].values;
    if (g.kind == TensorKind::kStat) {
      g.values = avg;
      continue;
    }
    std::vector<float>& m = state->m[i];
    std::vector<float>& v = state->v[i];
    for (size_t k = 0; k < g.values.size(); ++k) {
      double delta = static_cast<double>(avg[k]) - g.values[k];
      m[k] = static_cast<float>(p.beta1 * m[k] + (1 - p.beta1) * delta);
      v[k] = static_cast<float>(p.beta2 * v[k] + (1 - p.beta2) * delta * delta);
      double x = g.values[k] + p.lr * m[k] / (std::sqrt(static_cast<double>(v[k])) + p.tau);
      if (g.kind == TensorKind::kBinary) x = std::clamp(x, -p.clip, p.clip);
      g.values[k] = static_cast<float>(x);
    }
  }
  return Status::Ok();
}

}  // namespace fedsmear
