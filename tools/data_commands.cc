#include "tools/data_commands.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <utility>

#include "data/contact_sheet.h"
#include "data/dataset.h"
#include "data/partition.h"
#include "data/partition_manifest.h"
#include "data/preprocess.h"
#include "data/split.h"
#include "data/synth.h"

namespace fedsmear {
namespace {

int Fail(const std::string& command, const Status& st) {
  std::cerr << "fedsmear " << command << ": " << st.message() << "\n";
  return 1;
}

struct SynthArgs {
  SynthOptions opts;
  std::string out;
  std::string sheet;  // optional contact-sheet PNG
};

struct PartitionArgs {
  std::vector<std::string> data;
  int sites = 0;
  std::string scheme = "iid";
  uint64_t seed = 1;
  std::string out;
  std::vector<std::string> classes;
  int max_image_side = 8192;
  double holdout = 0;         // fraction carved before partitioning (fedsmear simulate: 0.15)
  uint64_t holdout_seed = 1;  // seed of that carve
  std::string concentrate_class;
  int concentrate_site = 1;
  double concentrate_share = 0.95;
};

struct InfoArgs {
  std::string path;
  bool json = false;
  int64_t limit = 0;
  int max_image_side = 8192;
};

// Pixel statistics over the decoded images of a dataset.
struct ImageStats {
  int64_t images = 0;
  int min_w = 0, max_w = 0, min_h = 0, max_h = 0;
  double sum[3] = {0, 0, 0}, sum_sq[3] = {0, 0, 0};
  double pixels = 0;
  std::vector<SkippedFile> failed;

  void Add(const cv::Mat& rgb) {
    if (images == 0) {
      min_w = max_w = rgb.cols;
      min_h = max_h = rgb.rows;
    }
    min_w = std::min(min_w, rgb.cols);
    max_w = std::max(max_w, rgb.cols);
    min_h = std::min(min_h, rgb.rows);
    max_h = std::max(max_h, rgb.rows);
    ++images;
    for (int y = 0; y < rgb.rows; ++y) {
      const uint8_t* p = rgb.ptr<uint8_t>(y);
      for (int x = 0; x < rgb.cols; ++x) {
        for (int c = 0; c < 3; ++c) {
          const double v = p[3 * x + c] / 255.0;
          sum[c] += v;
          sum_sq[c] += v * v;
        }
      }
    }
    pixels += static_cast<double>(rgb.total());
  }
  double Mean(int c) const { return pixels > 0 ? sum[c] / pixels : 0; }
  double Std(int c) const {
    if (pixels <= 0) return 0;
    const double m = Mean(c);
    return std::sqrt(std::max(0.0, sum_sq[c] / pixels - m * m));
  }
};

int RunSynth(const SynthArgs& a) {
  if (Status st = WriteSynthDataset(a.opts, a.out); !st.ok()) return Fail("synth", st);
  const auto names = SynthClassNames(a.opts.task);
  std::cout << "wrote " << names.size() * a.opts.per_class << " images (" << names.size()
            << " classes x " << a.opts.per_class << ", " << a.opts.size << "x" << a.opts.size
            << ") to " << a.out << "\n";
  if (!a.sheet.empty()) {
    Result<Dataset> ds = ScanImageFolder(a.out, names);
    if (!ds.ok()) return Fail("synth", ds.status());
    if (Status st = WriteContactSheet(*ds, 10, 64, a.sheet); !st.ok()) return Fail("synth", st);
    std::cout << "contact sheet " << a.sheet << "\n";
  }
  return 0;
}

// With --holdout, the held-out set is carved from the one --data first (stratified, or whole
// groups for the group scheme: what `fedsmear simulate` does) and the rest is partitioned.
int RunPartition(const PartitionArgs& a) {
  Result<PartitionScheme> scheme = ParsePartitionScheme(a.scheme);
  if (!scheme.ok()) return Fail("partition", scheme.status());
  if (scheme->kind != PartitionScheme::Kind::kSource && a.sites < 1) {
    return Fail("partition", InvalidArgument("--sites is required (>= 1) for scheme " + a.scheme));
  }
  scheme->concentrate_class = a.concentrate_class;
  scheme->concentrate_site = a.concentrate_site;
  scheme->concentrate_share = a.concentrate_share;
  ScanOptions scan;
  scan.max_image_side = a.max_image_side;
  std::vector<std::string> roots = a.data, classes = a.classes;
  PartitionManifest manifest;
  if (a.holdout > 0) {
    if (a.data.size() != 1 || scheme->kind == PartitionScheme::Kind::kSource) {
      return Fail("partition", InvalidArgument("--holdout carves from one --data, not per source"));
    }
    Result<Dataset> all = OpenDataset(a.data[0], a.classes, scan);
    if (!all.ok()) return Fail("partition", all.status());
    const bool by_group = scheme->kind == PartitionScheme::Kind::kGroup;
    Result<TrainValIndices> split = TrainValSplit(*all, a.holdout, a.holdout_seed, by_group);
    if (!split.ok()) return Fail("partition", split.status());
    std::vector<Sample> pool;
    for (size_t i : split->train) pool.push_back(all->samples[i]);
    for (size_t i : split->val) manifest.holdout.push_back(all->samples[i]);
    std::error_code ec;
    std::filesystem::create_directories(a.out, ec);
    const std::string pool_csv = a.out + "/pool.csv";
    for (const auto& [path, samples] : {std::pair{pool_csv, &pool},
                                        std::pair{a.out + "/holdout.csv", &manifest.holdout}}) {
      if (Status st = WriteManifest(path, all->class_names, *samples); !st.ok()) {
        return Fail("partition", st);
      }
    }
    roots = {pool_csv};
    classes = all->class_names;
  }
  Result<SitePartition> part = PartitionRoots(roots, classes, a.sites, *scheme, a.seed, scan);
  if (!part.ok()) return Fail("partition", part.status());
  if (Status st = WritePartition(*part, a.out); !st.ok()) return Fail("partition", st);
  manifest.class_names = part->class_names;
  manifest.sites = part->sites;
  if (Status st = WritePartitionManifest(a.out + "/partition.csv", manifest); !st.ok()) {
    return Fail("partition", st);
  }
  if (!manifest.holdout.empty()) {
    std::cout << "held out " << manifest.holdout.size() << " images (holdout.csv)\n";
  }
  std::cout << FormatClassTable(*part);
  if (!part->skipped.empty()) {
    std::cout << part->skipped.size() << " files skipped (run data-info for the reasons)\n";
  }
  std::cout << "wrote " << part->sites.size() << " site manifests and partition.csv to "
            << a.out << "\n";
  return 0;
}

int RunDataInfo(const InfoArgs& a) {
  ScanOptions scan;
  scan.max_image_side = a.max_image_side;
  Result<Dataset> ds = OpenDataset(a.path, {}, scan);
  if (!ds.ok()) return Fail("data-info", ds.status());
  ImageStats stats;
  int64_t visited = 0;
  for (const Sample& s : ds->samples) {
    if (a.limit > 0 && visited >= a.limit) break;
    ++visited;
    Result<cv::Mat> img = DecodeImage(s.path, a.max_image_side);
    if (img.ok()) {
      stats.Add(*img);
    } else {
      stats.failed.push_back({s.path, img.status().message()});
    }
  }
  std::vector<SkippedFile> skipped = ds->skipped;
  skipped.insert(skipped.end(), stats.failed.begin(), stats.failed.end());
  const auto counts = ds->ClassCounts();
  if (a.json) {
    nlohmann::json j;
    j["path"] = a.path;
    j["samples"] = ds->samples.size();
    j["classes"] = nlohmann::json::object();
    for (size_t c = 0; c < counts.size(); ++c) j["classes"][ds->class_names[c]] = counts[c];
    j["class_names"] = ds->class_names;
    j["unknown_classes"] = ds->unknown_classes;
    j["skipped"] = nlohmann::json::array();
    for (const auto& s : skipped) j["skipped"].push_back({{"path", s.path}, {"reason", s.reason}});
    j["decoded_images"] = stats.images;
    j["width"] = {{"min", stats.min_w}, {"max", stats.max_w}};
    j["height"] = {{"min", stats.min_h}, {"max", stats.max_h}};
    j["mean"] = {stats.Mean(0), stats.Mean(1), stats.Mean(2)};
    j["std"] = {stats.Std(0), stats.Std(1), stats.Std(2)};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << a.path << ": " << ds->samples.size() << " images in " << counts.size()
            << " classes\n";
  size_t wide = 5;
  for (const auto& n : ds->class_names) wide = std::max(wide, n.size());
  for (size_t c = 0; c < counts.size(); ++c) {
    const std::string& name = ds->class_names[c];
    std::cout << "  " << name << std::string(wide - name.size() + 2, ' ') << counts[c] << "\n";
  }
  if (stats.images > 0) {
    std::cout << "image size: width " << stats.min_w << ".." << stats.max_w << ", height "
              << stats.min_h << ".." << stats.max_h << " (" << stats.images << " decoded)\n";
    std::printf("channel mean (RGB, [0,1]): %.4f %.4f %.4f\n", stats.Mean(0), stats.Mean(1),
                stats.Mean(2));
    std::printf("channel std  (RGB, [0,1]): %.4f %.4f %.4f\n", stats.Std(0), stats.Std(1),
                stats.Std(2));
    std::fflush(stdout);
  }
  if (!skipped.empty()) {
    std::cout << skipped.size() << " skipped files:\n";
    for (const auto& s : skipped) std::cout << "  " << s.path << ": " << s.reason << "\n";
  }
  return 0;
}

}  // namespace

Command AddSynthCommand(CLI::App& root) {
  auto args = std::make_shared<SynthArgs>();
  CLI::App* app =
      root.add_subcommand("synth", "Generate a labelled synthetic blood-cell image set");
  app->add_option("--task", args->opts.task, "rbc (8 red-cell shapes) or wbc (4 white cells)")
      ->check(CLI::IsMember({"rbc", "wbc"}))
      ->capture_default_str();
  app->add_option("--per-class", args->opts.per_class, "images per class")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  app->add_option("--size", args->opts.size, "image side in pixels")
      ->check(CLI::Range(16, 4096))
      ->capture_default_str();
  app->add_option("--seed", args->opts.seed, "random seed")->capture_default_str();
  app->add_option("--out", args->out, "output folder (out/<class>/<n>.png)")->required();
  app->add_option("--sheet", args->sheet, "also write a PNG contact sheet (10 samples per class)");
  return {app, [args] { return RunSynth(*args); }};
}

Command AddPartitionCommand(CLI::App& root) {
  auto args = std::make_shared<PartitionArgs>();
  CLI::App* app =
      root.add_subcommand("partition", "Split image data into simulated sites (CSV manifests)");
  app->add_option("--data", args->data, "image folder or manifest (repeat for several sources)")
      ->required();
  app->add_option("--sites", args->sites, "number of sites (source: one per --data)")
      ->check(CLI::Range(1, 100000));
  app->add_option("--scheme", args->scheme, "iid | dirichlet:<alpha> | group | source")
      ->capture_default_str();
  app->add_option("--seed", args->seed, "random seed")->capture_default_str();
  app->add_option("--out", args->out, "output folder for site-<k>.csv")->required();
  app->add_option("--classes", args->classes, "class names in label order (default: from data)")
      ->delimiter(',');
  app->add_option("--max-image-side", args->max_image_side, "skip images declaring larger sides")
      ->capture_default_str();
  app->add_option("--holdout", args->holdout,
                  "first carve this fraction of the one --data as the held-out set "
                  "(holdout.csv; fedsmear simulate carves 0.15)")
      ->check(CLI::Range(0.0, 0.9));
  app->add_option("--holdout-seed", args->holdout_seed, "seed of the held-out carve")
      ->capture_default_str();
  app->add_option("--concentrate-class", args->concentrate_class,
                  "one site gets at least --concentrate-share of this class first");
  app->add_option("--concentrate-site", args->concentrate_site, "that site (1-based)")
      ->capture_default_str();
  app->add_option("--concentrate-share", args->concentrate_share, "its least share of the class")
      ->capture_default_str();
  return {app, [args] { return RunPartition(*args); }};
}

Command AddDataInfoCommand(CLI::App& root) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* app = root.add_subcommand(
      "data-info", "Per-class counts, skipped files, image sizes and channel statistics");
  app->add_option("path", args->path, "image folder root/<class>/<files> or CSV manifest")
      ->required();
  app->add_flag("--json", args->json, "print JSON instead of text");
  app->add_option("--limit", args->limit, "decode at most this many images for stats (0 = all)")
      ->capture_default_str();
  app->add_option("--max-image-side", args->max_image_side, "skip images declaring larger sides")
      ->capture_default_str();
  return {app, [args] { return RunDataInfo(*args); }};
}

}  // namespace fedsmear
