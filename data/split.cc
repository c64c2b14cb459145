#include "data/split.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "data/random.h"

namespace fedsmear {

std::vector<int64_t> CountClasses(const Dataset& ds, const std::vector<size_t>* indices) {
  if (indices == nullptr) return ds.ClassCounts();
  std::vector<int64_t> counts(ds.class_names.size(), 0);
  for (size_t i : *indices) {
    const int label = ds.samples[i].label;
    if (label >= 0 && static_cast<size_t>(label) < counts.size()) ++counts[label];
  }
  return counts;
}

std::vector<double> LogitAdjustmentOffsets(const std::vector<int64_t>& counts, double tau,
                                           const std::vector<double>& target) {
  std::vector<double> out(counts.size(), 0.0);
  double total = 0;
  for (int64_t n : counts) total += n > 0 ? static_cast<double>(n) : 0.0;
  if (tau == 0 || total == 0) return out;
  const bool pooled = target.size() == counts.size();
  for (size_t c = 0; c < counts.size(); ++c) {
    if (counts[c] <= 0) {
      out[c] = kAbsentClassOffset;
      continue;
    }
    double log_ratio = std::log(static_cast<double>(counts[c]) / total);
    if (pooled) log_ratio -= std::log(std::max(target[c], kMinTargetPrior));
    out[c] = tau * log_ratio;
  }
  return out;
}

std::vector<double> InverseFrequencyWeights(const std::vector<int64_t>& counts) {
  std::vector<double> w(counts.size(), 0.0);
  double sum = 0;
  int present = 0;
  for (size_t c = 0; c < counts.size(); ++c) {
    if (counts[c] > 0) {
      w[c] = 1.0 / static_cast<double>(counts[c]);
      sum += w[c];
      ++present;
    }
  }
  if (present == 0) return w;
  for (double& x : w) x *= present / sum;
  return w;
}

namespace {

TrainValIndices StratifiedSplit(const Dataset& ds, double f, std::mt19937& rng) {
  std::vector<std::vector<size_t>> by_class(ds.class_names.size());
  for (size_t i = 0; i < ds.samples.size(); ++i) by_class[ds.samples[i].label].push_back(i);
  TrainValIndices out;
  for (auto& members : by_class) {
    Shuffle(&members, rng);
    const int64_t n = static_cast<int64_t>(members.size());
    int64_t n_val = std::llround(f * static_cast<double>(n));
    n_val = std::min(n_val, std::max<int64_t>(n - 1, 0));
    out.val.insert(out.val.end(), members.begin(), members.begin() + n_val);
    out.train.insert(out.train.end(), members.begin() + n_val, members.end());
  }
  return out;
}

TrainValIndices GroupSplit(const Dataset& ds, double f, std::mt19937& rng) {
  const size_t k = ds.class_names.size();
  std::map<std::string, std::vector<size_t>> groups;  // sorted by key: deterministic
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    const Sample& s = ds.samples[i];
    groups[s.group.empty() ? "\x01" + s.path : s.group].push_back(i);
  }
  std::vector<const std::vector<size_t>*> order;
  for (const auto& [key, members] : groups) order.push_back(&members);
  Shuffle(&order, rng);

  const std::vector<int64_t> totals = ds.ClassCounts();
  std::vector<double> target(k), val(k, 0.0);
  for (size_t c = 0; c < k; ++c) target[c] = f * static_cast<double>(totals[c]);
  TrainValIndices out;
  std::vector<double> g(k);
  for (const auto* members : order) {
    std::fill(g.begin(), g.end(), 0.0);
    for (size_t i : *members) g[ds.samples[i].label] += 1;
    double before = 0, after = 0;
    for (size_t c = 0; c < k; ++c) {
      before += std::abs(val[c] - target[c]);
      after += std::abs(val[c] + g[c] - target[c]);
    }
    auto& side = after < before ? out.val : out.train;
    if (after < before) {
      for (size_t c = 0; c < k; ++c) val[c] += g[c];
    }
    side.insert(side.end(), members->begin(), members->end());
  }
  return out;
}

}  // namespace

Result<TrainValIndices> TrainValSplit(const Dataset& ds, double val_fraction, uint64_t seed,
                                      bool by_group) {
  if (!(val_fraction >= 0 && val_fraction < 1)) {
    return InvalidArgument("val_fraction must be in [0, 1), got " + std::to_string(val_fraction));
  }
  std::mt19937 rng(MixSeed(seed, 0x5B1D));
  TrainValIndices out =
      by_group ? GroupSplit(ds, val_fraction, rng) : StratifiedSplit(ds, val_fraction, rng);
  std::sort(out.train.begin(), out.train.end());
  std::sort(out.val.begin(), out.val.end());
  return out;
}

}  // namespace fedsmear
