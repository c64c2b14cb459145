#include "coordinator/aggregate.h"

#include <algorithm>
#include <cmath>
#include <system_error>
#include <thread>

namespace fedsmear {
namespace {

// dst += weight * src, a loop the compiler vectorizes.
void AddScaled(const float* src, size_t n, double weight, double* dst) {
  for (size_t k = 0; k < n; ++k) dst[k] += weight * static_cast<double>(src[k]);
}

}  // namespace

WeightedAccumulator::WeightedAccumulator(const ModelState& layout, int threads)
    : layout_(layout), threads_(std::max(threads, 1)) {
  sums_.reserve(layout_.tensors.size());
  offsets_.push_back(0);
  for (NamedTensor& t : layout_.tensors) {
    sums_.emplace_back(t.values.size(), 0.0);
    offsets_.push_back(offsets_.back() + t.values.size());
    t.values.clear();
    t.values.shrink_to_fit();
  }
}

size_t WeightedAccumulator::TensorAt(size_t at) const {
  // The last tensor starting at or before `at` that is not empty.
  size_t i = static_cast<size_t>(std::upper_bound(offsets_.begin(), offsets_.end(), at) -
                                 offsets_.begin()) - 1;
  return std::min(i, sums_.size() - 1);
}

size_t WeightedAccumulator::AddRange(const ModelState& state, double weight, size_t begin,
                                     size_t end, bool check) {
  size_t pos = begin;
  size_t i = pos < end ? TensorAt(pos) : 0;
  while (pos < end) {
    while (offsets_[i + 1] <= pos) ++i;  // past the end of tensor i (or an empty one)
    const size_t local = pos - offsets_[i];
    const size_t m = std::min({kChunk, offsets_[i + 1] - pos, end - pos});
    const float* src = state.tensors[i].values.data() + local;
    if (check && !AllFinite(src, m)) return pos;
    AddScaled(src, m, weight, sums_[i].data() + local);
    pos += m;
  }
  return end;
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
  // Contiguous ranges, one per worker; the calling thread takes the first.
  const size_t n = offsets_.back();
  const size_t parts = std::clamp<size_t>(n / kChunk, 1, static_cast<size_t>(threads_));
  std::vector<size_t> bounds(parts + 1), stopped(parts);
  for (size_t k = 0; k <= parts; ++k) bounds[k] = n * k / parts;
  std::vector<std::thread> workers;
  for (size_t k = 1; k < parts; ++k) {
    auto work = [&, k] { stopped[k] = AddRange(state, weight, bounds[k], bounds[k + 1], true); };
    try {
      workers.emplace_back(work);
    } catch (const std::system_error&) {
      work();  // no thread to be had: do this range here
    }
  }
  stopped[0] = AddRange(state, weight, bounds[0], bounds[1], true);
  for (std::thread& w : workers) w.join();
  // A NaN/Inf stopped some range: take back what every range had added.
  size_t first_bad = n;
  for (size_t k = 0; k < parts; ++k) {
    if (stopped[k] != bounds[k + 1]) first_bad = std::min(first_bad, stopped[k]);
  }
  if (first_bad < n) {
    for (size_t k = 0; k < parts; ++k) AddRange(state, -weight, bounds[k], stopped[k], false);
    return InvalidArgument("tensor " + state.tensors[TensorAt(first_bad)].name +
                           " holds NaN or Inf");
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

Result<RoundSum> WeightedAccumulator::Sum(const ModelState& base) const {
  if (base.tensors.size() != sums_.size()) return InvalidArgument("base has another layout");
  RoundSum out = EmptySum(base, SumSpec{});
  for (size_t i = 0; i < sums_.size(); ++i) {
    const std::vector<float>& g = base.tensors[i].values;
    if (g.size() != sums_[i].size() || base.tensors[i].name != layout_.tensors[i].name) {
      return InvalidArgument("base tensor " + base.tensors[i].name + " has another layout");
    }
    std::vector<double>& d = out.sums[i];
    for (size_t k = 0; k < g.size(); ++k) {
      d[k] = sums_[i][k] - total_weight_ * static_cast<double>(g[k]);
    }
  }
  out.weight = total_weight_;
  out.count = count_;
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
