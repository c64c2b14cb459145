#include "data/partition.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <sstream>

#include "common/file_util.h"
#include "data/random.h"

namespace fedsmear {
namespace fs = std::filesystem;
namespace {

std::vector<std::vector<size_t>> ByClass(const Dataset& ds, std::mt19937& rng) {
  std::vector<std::vector<size_t>> by_class(ds.class_names.size());
  for (size_t i = 0; i < ds.samples.size(); ++i) by_class[ds.samples[i].label].push_back(i);
  for (auto& members : by_class) Shuffle(&members, rng);
  return by_class;
}

std::vector<std::vector<size_t>> Iid(const Dataset& ds, int sites, std::mt19937& rng) {
  std::vector<std::vector<size_t>> out(sites);
  size_t next = 0;
  for (const auto& members : ByClass(ds, rng)) {
    for (size_t i : members) out[next++ % sites].push_back(i);
  }
  return out;
}

// Splits n into parts proportional to p, summing exactly to n (largest remainder, ties by index).
std::vector<int64_t> Apportion(int64_t n, const std::vector<double>& p) {
  std::vector<int64_t> counts(p.size());
  std::vector<std::pair<double, size_t>> rem;
  int64_t used = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double exact = p[i] * static_cast<double>(n);
    counts[i] = static_cast<int64_t>(std::floor(exact));
    used += counts[i];
    rem.emplace_back(exact - std::floor(exact), i);
  }
  std::stable_sort(rem.begin(), rem.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; used < n; ++k, ++used) ++counts[rem[k % rem.size()].second];
  return counts;
}

std::vector<std::vector<size_t>> Dirichlet(const Dataset& ds, int sites, double alpha,
                                           std::mt19937& rng) {
  std::vector<std::vector<size_t>> out(sites);
  for (const auto& members : ByClass(ds, rng)) {
    std::vector<double> p(sites);
    double sum = 0;
    for (double& x : p) sum += (x = GammaSample(rng, alpha));
    if (!(sum > 0)) {
      std::fill(p.begin(), p.end(), 1.0 / sites);
    } else {
      for (double& x : p) x /= sum;
    }
    const std::vector<int64_t> counts = Apportion(static_cast<int64_t>(members.size()), p);
    size_t pos = 0;
    for (int s = 0; s < sites; ++s) {
      for (int64_t k = 0; k < counts[s]; ++k) out[s].push_back(members[pos++]);
    }
  }
  // Give every empty site one sample from the currently largest site.
  for (int s = 0; s < sites; ++s) {
    if (!out[s].empty()) continue;
    auto largest = std::max_element(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.size() < b.size();
    });
    if (largest->size() < 2) break;
    out[s].push_back(largest->back());
    largest->pop_back();
  }
  return out;
}

// Groups by key (a sample without a group is its own), in key order: deterministic.
std::map<std::string, std::vector<size_t>> Groups(const Dataset& ds) {
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    const Sample& s = ds.samples[i];
    groups[s.group.empty() ? "\x01" + s.path : s.group].push_back(i);
  }
  return groups;
}

// Deals `order`'s groups, largest first, each to the least-loaded site of `out` (which may
// already hold samples).
void DealGroups(std::vector<const std::vector<size_t>*> order, std::mt19937& rng,
                std::vector<std::vector<size_t>>* out) {
  Shuffle(&order, rng);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->size() > b->size(); });
  for (const auto* members : order) {
    auto least = std::min_element(out->begin(), out->end(), [](const auto& a, const auto& b) {
      return a.size() < b.size();
    });
    least->insert(least->end(), members->begin(), members->end());
  }
}

std::vector<std::vector<size_t>> ByGroup(const Dataset& ds, int sites, std::mt19937& rng) {
  const auto groups = Groups(ds);
  std::vector<const std::vector<size_t>*> order;
  for (const auto& [key, members] : groups) order.push_back(&members);
  std::vector<std::vector<size_t>> out(sites);
  DealGroups(std::move(order), rng, &out);
  return out;
}

// Concentration by group: groups holding class `c`, those with the most of it first (ties in
// a seeded random order), go to site `k` until it holds ceil(share x n_c); the rest are dealt.
std::vector<std::vector<size_t>> ConcentrateGroups(const Dataset& ds, int sites, int c, int k,
                                                   double share, std::mt19937& crng,
                                                   std::mt19937& rng) {
  const auto groups = Groups(ds);
  auto count_c = [&](const std::vector<size_t>& members) {
    int64_t n = 0;
    for (size_t i : members) n += ds.samples[i].label == c;
    return n;
  };
  std::vector<const std::vector<size_t>*> holders, rest;
  int64_t total = 0;
  for (const auto& [key, members] : groups) {
    const int64_t n = count_c(members);
    total += n;
    (n > 0 ? holders : rest).push_back(&members);
  }
  Shuffle(&holders, crng);
  std::stable_sort(holders.begin(), holders.end(),
                   [&](const auto* a, const auto* b) { return count_c(*a) > count_c(*b); });
  const auto target = static_cast<int64_t>(std::ceil(share * static_cast<double>(total) - 1e-9));
  std::vector<std::vector<size_t>> out(sites);
  int64_t taken = 0;
  for (const auto* members : holders) {
    if (taken < target) {
      out[k].insert(out[k].end(), members->begin(), members->end());
      taken += count_c(*members);
    } else {
      rest.push_back(members);
    }
  }
  DealGroups(std::move(rest), rng, &out);
  return out;
}

// Concentration by sample: ceil(share x n_c) random samples of class `c` go to site `k`; the
// scheme deals every other sample.
std::vector<std::vector<size_t>> ConcentrateSamples(const Dataset& ds, int sites, int c, int k,
                                                    const PartitionScheme& scheme,
                                                    std::mt19937& crng, std::mt19937& rng) {
  std::vector<size_t> members;
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    if (ds.samples[i].label == c) members.push_back(i);
  }
  Shuffle(&members, crng);
  const auto take = static_cast<size_t>(
      std::ceil(scheme.concentrate_share * static_cast<double>(members.size()) - 1e-9));
  std::vector<std::vector<size_t>> out(sites);
  std::vector<bool> fixed(ds.samples.size(), false);
  for (size_t j = 0; j < take && j < members.size(); ++j) {
    out[k].push_back(members[j]);
    fixed[members[j]] = true;
  }
  Dataset rest;
  rest.class_names = ds.class_names;
  std::vector<size_t> back;  // rest index -> ds index
  for (size_t i = 0; i < ds.samples.size(); ++i) {
    if (fixed[i]) continue;
    rest.samples.push_back(ds.samples[i]);
    back.push_back(i);
  }
  const auto parts = scheme.kind == PartitionScheme::Kind::kDirichlet
                         ? Dirichlet(rest, sites, scheme.alpha, rng)
                         : Iid(rest, sites, rng);
  for (int s = 0; s < sites; ++s) {
    for (size_t i : parts[s]) out[s].push_back(back[i]);
  }
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Samples of `ds` whose class is in `classes` (case-insensitive), relabelled, absolute paths.
std::vector<Sample> Relabel(const Dataset& ds, const std::vector<std::string>& classes,
                            const std::string& root, std::vector<std::string>* unknown) {
  std::map<std::string, int> ids;
  for (size_t i = 0; i < classes.size(); ++i) ids.emplace(Lower(classes[i]), static_cast<int>(i));
  std::vector<int> map(ds.class_names.size(), -1);
  const std::vector<int64_t> counts = ds.ClassCounts();
  for (size_t c = 0; c < ds.class_names.size(); ++c) {
    auto it = ids.find(Lower(ds.class_names[c]));
    if (it != ids.end()) {
      map[c] = it->second;
    } else if (counts[c] > 0) {
      spdlog::warn("{}: class '{}' is not among the partition's classes; its files are left out",
                   root, ds.class_names[c]);
      unknown->push_back(ds.class_names[c]);
    }
  }
  std::vector<Sample> out;
  for (const Sample& s : ds.samples) {
    if (map[s.label] < 0) continue;
    std::error_code ec;
    fs::path abs = fs::absolute(s.path, ec);
    out.push_back({(ec ? fs::path(s.path) : abs).lexically_normal().string(), map[s.label],
                   s.group});
  }
  return out;
}

// The concentration's checks, then the dealing (its own random stream, so that the rest is
// dealt by the scheme's stream as usual).
Result<std::vector<std::vector<size_t>>> Concentrated(const Dataset& ds, int sites,
                                                      const PartitionScheme& scheme,
                                                      uint64_t seed, std::mt19937& rng) {
  if (scheme.kind == PartitionScheme::Kind::kSource) {
    return InvalidArgument("the source scheme cannot concentrate a class: its sites are roots");
  }
  int c = -1;
  for (size_t k = 0; k < ds.class_names.size(); ++k) {
    if (Lower(ds.class_names[k]) == Lower(scheme.concentrate_class)) c = static_cast<int>(k);
  }
  if (c < 0) {
    return InvalidArgument("concentrate_class '" + scheme.concentrate_class +
                           "' is not among the partition's classes");
  }
  if (scheme.concentrate_site < 1 || scheme.concentrate_site > sites) {
    return InvalidArgument("concentrate_site must be in 1.." + std::to_string(sites) + ", got " +
                           std::to_string(scheme.concentrate_site));
  }
  if (!(scheme.concentrate_share > 0 && scheme.concentrate_share <= 1)) {
    return InvalidArgument("concentrate_share must be in (0, 1], got " +
                           std::to_string(scheme.concentrate_share));
  }
  std::mt19937 crng(MixSeed(seed, 0xC0C5));
  const int k = scheme.concentrate_site - 1;
  if (scheme.kind == PartitionScheme::Kind::kGroup) {
    return ConcentrateGroups(ds, sites, c, k, scheme.concentrate_share, crng, rng);
  }
  return ConcentrateSamples(ds, sites, c, k, scheme, crng, rng);
}

}  // namespace

Result<PartitionScheme> ParsePartitionScheme(const std::string& text) {
  PartitionScheme s;
  if (text == "iid") {
    s.kind = PartitionScheme::Kind::kIid;
  } else if (text == "group") {
    s.kind = PartitionScheme::Kind::kGroup;
  } else if (text == "source") {
    s.kind = PartitionScheme::Kind::kSource;
  } else if (text.rfind("dirichlet:", 0) == 0) {
    s.kind = PartitionScheme::Kind::kDirichlet;
    const std::string a = text.substr(10);
    char* end = nullptr;
    s.alpha = std::strtod(a.c_str(), &end);
    if (a.empty() || *end != '\0' || !(s.alpha > 0) || !std::isfinite(s.alpha)) {
      return InvalidArgument("dirichlet alpha must be a number > 0, got '" + a + "'");
    }
  } else {
    return InvalidArgument("unknown partition scheme '" + text +
                           "' (use iid, dirichlet:<alpha>, group or source)");
  }
  return s;
}

Result<std::vector<std::vector<size_t>>> PartitionIndices(const Dataset& ds, int sites,
                                                          const PartitionScheme& scheme,
                                                          uint64_t seed) {
  if (sites < 1) return InvalidArgument("sites must be >= 1");
  if (ds.samples.size() < static_cast<size_t>(sites)) {
    return InvalidArgument("only " + std::to_string(ds.samples.size()) + " samples for " +
                           std::to_string(sites) + " sites");
  }
  std::mt19937 rng(MixSeed(seed, 0x9A27));
  std::vector<std::vector<size_t>> out;
  if (!scheme.concentrate_class.empty()) {
    ASSIGN_OR_RETURN(out, Concentrated(ds, sites, scheme, seed, rng));
  } else {
    switch (scheme.kind) {
      case PartitionScheme::Kind::kIid: out = Iid(ds, sites, rng); break;
      case PartitionScheme::Kind::kDirichlet: out = Dirichlet(ds, sites, scheme.alpha, rng); break;
      case PartitionScheme::Kind::kGroup: out = ByGroup(ds, sites, rng); break;
      case PartitionScheme::Kind::kSource:
        return InvalidArgument("the source scheme partitions by dataset root, not by sample");
    }
  }
  for (auto& site : out) {
    if (site.empty() && scheme.kind == PartitionScheme::Kind::kGroup) {
      return InvalidArgument("fewer groups than sites: a site would get no data");
    }
    std::sort(site.begin(), site.end());
  }
  return out;
}

std::vector<std::vector<int64_t>> SitePartition::ClassCounts() const {
  std::vector<std::vector<int64_t>> counts(sites.size(),
                                           std::vector<int64_t>(class_names.size(), 0));
  for (size_t s = 0; s < sites.size(); ++s) {
    for (const Sample& x : sites[s]) ++counts[s][x.label];
  }
  return counts;
}

Result<SitePartition> PartitionRoots(const std::vector<std::string>& roots,
                                     const std::vector<std::string>& classes, int sites,
                                     const PartitionScheme& scheme, uint64_t seed,
                                     const ScanOptions& opts) {
  if (roots.empty()) return InvalidArgument("no dataset given");
  const bool source = scheme.kind == PartitionScheme::Kind::kSource;
  if (source && !scheme.concentrate_class.empty()) {
    return InvalidArgument("the source scheme cannot concentrate a class: its sites are roots");
  }
  if (source && sites != 0 && sites != static_cast<int>(roots.size())) {
    return InvalidArgument("the source scheme makes one site per dataset: " +
                           std::to_string(roots.size()) + " datasets but " +
                           std::to_string(sites) + " sites");
  }
  std::vector<Dataset> loaded;
  for (const auto& root : roots) {
    ASSIGN_OR_RETURN(Dataset ds, OpenDataset(root, {}, opts));
    loaded.push_back(std::move(ds));
  }
  SitePartition out;
  if (!classes.empty()) {
    out.class_names = classes;
  } else {
    std::map<std::string, std::pair<std::string, size_t>> seen;  // lower -> (name, roots)
    for (const auto& ds : loaded) {
      for (const auto& c : ds.class_names) {
        auto& entry = seen.emplace(Lower(c), std::make_pair(c, size_t{0})).first->second;
        ++entry.second;
      }
    }
    for (const auto& [lower, entry] : seen) {
      if (!source || entry.second == loaded.size()) out.class_names.push_back(entry.first);
    }
    if (out.class_names.empty()) return InvalidArgument("the datasets share no class");
  }
  std::vector<std::vector<Sample>> per_root;
  for (size_t r = 0; r < loaded.size(); ++r) {
    per_root.push_back(Relabel(loaded[r], out.class_names, roots[r], &out.unknown_classes));
    out.skipped.insert(out.skipped.end(), loaded[r].skipped.begin(), loaded[r].skipped.end());
  }
  if (source) {
    out.sites = std::move(per_root);
    for (size_t r = 0; r < out.sites.size(); ++r) {
      if (out.sites[r].empty()) return InvalidArgument("dataset " + roots[r] + " has no samples");
    }
    return out;
  }
  Dataset merged;
  merged.class_names = out.class_names;
  for (auto& samples : per_root) {
    merged.samples.insert(merged.samples.end(), samples.begin(), samples.end());
  }
  ASSIGN_OR_RETURN(auto parts, PartitionIndices(merged, sites, scheme, seed));
  for (const auto& idx : parts) {
    std::vector<Sample> site;
    for (size_t i : idx) site.push_back(merged.samples[i]);
    out.sites.push_back(std::move(site));
  }
  return out;
}

Status WritePartition(const SitePartition& partition, const std::string& out_dir) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return IoError("cannot create " + out_dir + ": " + ec.message());
  for (size_t s = 0; s < partition.sites.size(); ++s) {
    const std::string name = "site-" + std::to_string(s + 1) + ".csv";
    const std::string path = (fs::path(out_dir) / name).string();
    RETURN_IF_ERROR(WriteManifest(path, partition.class_names, partition.sites[s]));
  }
  std::ostringstream csv;
  csv << "site";
  for (const auto& c : partition.class_names) csv << "," << c;
  csv << ",total\n";
  const auto counts = partition.ClassCounts();
  for (size_t s = 0; s < counts.size(); ++s) {
    csv << "site-" << s + 1;
    for (int64_t n : counts[s]) csv << "," << n;
    csv << "," << std::accumulate(counts[s].begin(), counts[s].end(), int64_t{0}) << "\n";
  }
  return WriteFileAtomic((fs::path(out_dir) / "class_counts.csv").string(), csv.str());
}

std::string FormatClassTable(const SitePartition& partition) {
  const auto counts = partition.ClassCounts();
  std::vector<std::string> header = {"site"};
  for (const auto& c : partition.class_names) header.push_back(c);
  header.push_back("total");
  std::vector<std::vector<std::string>> rows;
  std::vector<int64_t> col_totals(partition.class_names.size() + 1, 0);
  for (size_t s = 0; s < counts.size(); ++s) {
    std::vector<std::string> row = {"site-" + std::to_string(s + 1)};
    int64_t total = 0;
    for (size_t c = 0; c < counts[s].size(); ++c) {
      row.push_back(std::to_string(counts[s][c]));
      total += counts[s][c];
      col_totals[c] += counts[s][c];
    }
    col_totals.back() += total;
    row.push_back(std::to_string(total));
    rows.push_back(row);
  }
  std::vector<std::string> last = {"total"};
  for (int64_t n : col_totals) last.push_back(std::to_string(n));
  rows.push_back(last);
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  std::ostringstream os;
  auto emit = [&](const std::vector<std::string>& r) {
    for (size_t c = 0; c < r.size(); ++c) {
      os << (c == 0 ? "" : "  ");
      if (c == 0) {
        os << r[c] << std::string(width[c] - r[c].size(), ' ');
      } else {
        os << std::string(width[c] - r[c].size(), ' ') << r[c];
      }
    }
    os << "\n";
  };
  emit(header);
  for (const auto& r : rows) emit(r);
  return os.str();
}

}  // namespace fedsmear
