#include "models/bn_statistics.h"

#include <algorithm>
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

Status PoolBatchNormStatistics(const std::vector<SiteBnStatistics>& sites, ModelState* global) {
  if (sites.empty()) return InvalidArgument("no site statistics to pool");
  double total = 0;
  for (const SiteBnStatistics& s : sites) {
    if (s.images <= 0) return InvalidArgument("site statistics from no images");
    RETURN_IF_ERROR(CheckBatchNormStatistics(s.stats, *global));
    total += static_cast<double>(s.images);
  }
  std::vector<std::map<std::string, const NamedTensor*>> by_name(sites.size());
  for (size_t i = 0; i < sites.size(); ++i) {
    for (const NamedTensor& t : sites[i].stats.tensors) by_name[i][t.name] = &t;
  }
  // Every running_mean with its layer's running_var.
  std::map<std::string, NamedTensor*> vars;
  for (NamedTensor& t : global->tensors) {
    if (IsVar(t)) vars[LayerOf(t)] = &t;
  }
  std::vector<std::pair<NamedTensor*, NamedTensor*>> layers;
  for (NamedTensor& mean : global->tensors) {
    if (!IsMean(mean)) continue;
    auto v = vars.find(LayerOf(mean));
    if (v == vars.end()) return InvalidArgument("model has " + mean.name + " but no running_var");
    layers.emplace_back(&mean, v->second);
  }
  for (auto [mean_ptr, var_ptr] : layers) {
    NamedTensor& mean = *mean_ptr;
    NamedTensor& var = *var_ptr;
    const size_t n = mean.values.size();
    std::vector<double> m(n, 0.0), second(n, 0.0);
    for (size_t i = 0; i < sites.size(); ++i) {
      const double w = static_cast<double>(sites[i].images) / total;
      const std::vector<float>& mi = by_name[i].at(mean.name)->values;
      const std::vector<float>& vi = by_name[i].at(var.name)->values;
      for (size_t c = 0; c < n; ++c) {
        m[c] += w * mi[c];
        second[c] += w * (static_cast<double>(vi[c]) + static_cast<double>(mi[c]) * mi[c]);
      }
    }
    for (size_t c = 0; c < n; ++c) {
      mean.values[c] = static_cast<float>(m[c]);
      var.values[c] = static_cast<float>(std::max(0.0, second[c] - m[c] * m[c]));
    }
  }
  return Status::Ok();
}

}  // namespace fedsmear
