#include "models/bn_statistics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace fedsmear {
namespace {

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool IsMean(const NamedTensor& t) {
  return t.kind == TensorKind::kStat && EndsWith(t.name, ".running_mean");
}
bool IsVar(const NamedTensor& t) {
  return t.kind == TensorKind::kStat && EndsWith(t.name, ".running_var");
}

// "<layer>." of a running_mean or running_var tensor.
std::string LayerOf(const NamedTensor& t) {
  return t.name.substr(0, t.name.rfind('.') + 1);
}

}  // namespace

ModelState BatchNormStatisticsOf(const ModelState& state) {
  ModelState out;
  out.meta = state.meta;
  for (const NamedTensor& t : state.tensors) {
    if (IsMean(t) || IsVar(t)) out.tensors.push_back(t);
  }
  return out;
}

Status CheckBatchNormStatistics(const ModelState& site, const ModelState& global) {
  std::map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& t : site.tensors) by_name[t.name] = &t;
  for (const NamedTensor& want : global.tensors) {
    if (!IsMean(want) && !IsVar(want)) continue;
    auto it = by_name.find(want.name);
    if (it == by_name.end()) return InvalidArgument("site statistics lack " + want.name);
    const NamedTensor& got = *it->second;
    if (got.shape != want.shape || got.values.size() != want.values.size()) {
      return InvalidArgument("site statistics: " + want.name + " has the wrong shape");
    }
    if (!AllFinite(got.values.data(), got.values.size())) {
      return InvalidArgument("site statistics: " + want.name + " is not finite");
    }
    if (IsVar(want) && !got.values.empty() &&
        *std::min_element(got.values.begin(), got.values.end()) < 0) {
      return InvalidArgument("site statistics: " + want.name + " is negative");
    }
  }
  return Status::Ok();
}

namespace {

// s_c^2 of a reference variance (a slightly negative one, from rounding in a sum, counts as 0).
double Scale2(float reference_var) {
  return std::max(0.0, static_cast<double>(reference_var)) + kBnMomentEpsilon;
}

// Every BN layer of `state`: its running_mean with its running_var, in model order. T is
// NamedTensor or const NamedTensor, as `state` is mutable or not.
template <typename T, typename State>
Result<std::vector<std::pair<T*, T*>>> Layers(State& state) {
  std::map<std::string, T*> vars;
  for (T& t : state.tensors) {
    if (IsVar(t)) vars[LayerOf(t)] = &t;
  }
  std::vector<std::pair<T*, T*>> layers;
  for (T& mean : state.tensors) {
    if (!IsMean(mean)) continue;
    auto v = vars.find(LayerOf(mean));
    if (v == vars.end()) return InvalidArgument("model has " + mean.name + " but no running_var");
    if (v->second->values.size() != mean.values.size()) {
      return InvalidArgument(mean.name + " and its running_var differ in size");
    }
    layers.emplace_back(&mean, v->second);
  }
  return layers;
}

}  // namespace

size_t BnMomentCount(const ModelState& reference) {
  size_t n = 0;
  for (const NamedTensor& t : reference.tensors) {
    if (IsMean(t)) n += 2 * t.values.size();
  }
  return n;
}

Result<std::vector<double>> BnMomentsOf(const ModelState& site, const ModelState& reference) {
  RETURN_IF_ERROR(CheckBatchNormStatistics(site, reference));
  ASSIGN_OR_RETURN(auto layers, (Layers<const NamedTensor>(reference)));
  std::vector<double> out;
  out.reserve(BnMomentCount(reference));
  for (auto [mean, var] : layers) {
    const std::vector<float>& m = site.Find(mean->name)->values;
    const std::vector<float>& v = site.Find(var->name)->values;
    const size_t n = m.size();
    std::vector<double> second(n);
    for (size_t c = 0; c < n; ++c) {
      const double s2 = Scale2(var->values[c]);
      const double d = static_cast<double>(m[c]) - mean->values[c];
      out.push_back(d / std::sqrt(s2));
      second[c] = static_cast<double>(v[c]) / s2;
    }
    out.insert(out.end(), second.begin(), second.end());
  }
  return out;
}

Status ApplyBnMoments(const std::vector<double>& pooled, ModelState* reference) {
  if (pooled.size() != BnMomentCount(*reference)) {
    return InvalidArgument("pooled batch-norm moments: " + std::to_string(pooled.size()) +
                           " values for a model of " +
                           std::to_string(BnMomentCount(*reference)));
  }
  for (double x : pooled) {
    if (!std::isfinite(x)) return InvalidArgument("pooled batch-norm moments are not finite");
  }
  ASSIGN_OR_RETURN(auto layers, (Layers<NamedTensor>(*reference)));
  size_t at = 0;
  for (auto [mean, var] : layers) {
    const size_t n = mean->values.size();
    for (size_t c = 0; c < n; ++c) {
      const double s2 = Scale2(var->values[c]);
      const double d = pooled[at + c], e = pooled[at + n + c];
      mean->values[c] = static_cast<float>(mean->values[c] + std::sqrt(s2) * d);
      var->values[c] = static_cast<float>(s2 * std::max(0.0, e));
    }
    at += 2 * n;
  }
  return Status::Ok();
}

Status PoolBatchNormStatistics(const std::vector<SiteBnStatistics>& sites, ModelState* global) {
  if (sites.empty()) return InvalidArgument("no site statistics to pool");
  double total = 0;
  for (const SiteBnStatistics& s : sites) {
    if (s.images <= 0) return InvalidArgument("site statistics from no images");
    total += static_cast<double>(s.images);
  }
  std::vector<double> pooled(BnMomentCount(*global), 0.0);
  for (const SiteBnStatistics& s : sites) {
    ASSIGN_OR_RETURN(std::vector<double> moments, BnMomentsOf(s.stats, *global));
    const double w = static_cast<double>(s.images) / total;
    for (size_t k = 0; k < moments.size(); ++k) pooled[k] += w * moments[k];
  }
  return ApplyBnMoments(pooled, global);
}

}  // namespace fedsmear
