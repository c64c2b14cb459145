#include "data/loader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <numeric>

#include "data/preprocess.h"
#include "data/random.h"

namespace fedsmear {
namespace {

// Stream tags that keep the seeds of different random uses apart.
constexpr uint64_t kShuffleTag = 1;
constexpr uint64_t kAugmentTag = 2;
constexpr uint64_t kCutMixTag = 3;

}  // namespace

BatchLoader::BatchLoader(const Dataset& dataset, std::vector<size_t> indices, LoaderOptions opts)
    : dataset_(dataset),
      indices_(std::move(indices)),
      opts_(std::move(opts)),
      augmenter_(opts_.aug),
      cache_(opts_.cache ? indices_.size() : 0) {}

BatchLoader::~BatchLoader() { StopWorkers(); }

int64_t BatchLoader::BatchesPerEpoch() const {
  const int64_t n = static_cast<int64_t>(indices_.size());
  const int64_t b = std::max(1, opts_.batch_size);
  return opts_.drop_last ? n / b : (n + b - 1) / b;
}

void BatchLoader::StopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = false;
  ready_.clear();
}

void BatchLoader::StartEpoch(int epoch) {
  StopWorkers();
  epoch_ = epoch;
  order_.resize(indices_.size());
  std::iota(order_.begin(), order_.end(), size_t{0});
  if (opts_.train) {
    std::mt19937 rng(MixSeed(opts_.seed, kShuffleTag, static_cast<uint64_t>(epoch)));
    Shuffle(&order_, rng);
  }
  num_batches_ = BatchesPerEpoch();
  next_to_deliver_ = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    next_to_build_ = 0;
  }
  for (int i = 0; i < opts_.threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

void BatchLoader::WorkerLoop() {
  const int64_t ahead = opts_.prefetch > 0 ? opts_.prefetch : 2 * opts_.threads + 1;
  while (true) {
    int64_t b;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] {
        return stop_ || next_to_build_ >= num_batches_ ||
               next_to_build_ < next_to_deliver_ + ahead;
      });
      if (stop_ || next_to_build_ >= num_batches_) return;
      b = next_to_build_++;
    }
    Batch batch = BuildBatch(b);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_.emplace(b, std::move(batch));
    }
    ready_cv_.notify_all();
  }
}

bool BatchLoader::Next(Batch* out) {
  while (next_to_deliver_ < num_batches_) {
    const int64_t b = next_to_deliver_;
    Batch batch;
    if (opts_.threads <= 0) {
      batch = BuildBatch(b);
    } else {
      std::unique_lock<std::mutex> lock(mu_);
      if (ready_.count(b) == 0) {
        const auto start = std::chrono::steady_clock::now();
        ready_cv_.wait(lock, [&] { return ready_.count(b) > 0; });
        stats_.wait_seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
      auto it = ready_.find(b);
      batch = std::move(it->second);
      ready_.erase(it);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++next_to_deliver_;  // read by workers under mu_
    }
    work_cv_.notify_all();
    if (batch.n == 0) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.images += batch.n;
    }
    *out = std::move(batch);
    return true;
  }
  return false;
}

cv::Mat BatchLoader::LoadPrepared(size_t pos) {
  const size_t sample_index = indices_[pos];
  if (opts_.cache) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (!cache_[pos].empty()) return cache_[pos];
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_.count(sample_index) > 0) return cv::Mat();
  }
  const std::string& path = dataset_.samples[sample_index].path;
  Result<cv::Mat> rgb = DecodeImage(path, opts_.max_image_side);
  cv::Mat prepared;
  std::string reason;
  if (rgb.ok()) {
    try {
      prepared = ResizeForModel(*rgb, opts_.input_size, opts_.pre);
    } catch (const cv::Exception& e) {
      reason = std::string("resize failed: ") + e.what();
    }
  } else {
    reason = rgb.status().message();
  }
  if (prepared.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_.insert(sample_index).second) {
      failures_.push_back({path, reason});
      spdlog::warn("skipping unreadable image {}: {}", path, reason);
    }
    return prepared;
  }
  if (opts_.cache) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_[pos].empty()) {
      cache_[pos] = prepared;
      cached_.fetch_add(1);
    }
  }
  return prepared;
}

Batch BatchLoader::BuildBatch(int64_t b) {
  const int64_t bs = std::max(1, opts_.batch_size);
  const size_t begin = static_cast<size_t>(b * bs);
  const size_t end = std::min(order_.size(), begin + static_cast<size_t>(bs));
  const int size = opts_.input_size;
  const size_t per_image = 3ull * size * size;
  Batch batch;
  batch.images.resize(per_image * (end - begin));
  int64_t skipped = 0;
  for (size_t p = begin; p < end; ++p) {
    const size_t pos = order_[p];
    cv::Mat img = LoadPrepared(pos);
    if (img.empty()) {
      ++skipped;
      continue;
    }
    if (opts_.train && augmenter_.enabled()) {
      std::mt19937 rng(MixSeed(opts_.seed, kAugmentTag, static_cast<uint64_t>(epoch_), p));
      img = img.clone();  // the cached copy stays unaugmented
      try {
        augmenter_.Apply(&img, rng);
      } catch (const cv::Exception& e) {
        spdlog::warn("augmentation failed for {}: {}", dataset_.samples[indices_[pos]].path,
                     e.what());
      }
    }
    NormalizeToCHW(img, opts_.pre, batch.images.data() + per_image * batch.n);
    const size_t sample_index = indices_[pos];
    batch.labels.push_back(dataset_.samples[sample_index].label);
    batch.indices.push_back(sample_index);
    ++batch.n;
  }
  batch.images.resize(per_image * batch.n);
  if (opts_.train && opts_.aug.cutmix > 0 && batch.n > 0) {
    std::mt19937 rng(MixSeed(opts_.seed, kCutMixTag, static_cast<uint64_t>(epoch_),
                             static_cast<uint64_t>(b)));
    CutMixResult mix =
        ApplyCutMix(batch.images.data(), batch.n, size, batch.labels, opts_.aug.cutmix, rng);
    if (mix.applied) {
      batch.labels_b = std::move(mix.label_b);
      batch.lambda = std::move(mix.lambda);
    }
  }
  if (skipped > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.skipped += skipped;
  }
  return batch;
}

LoaderStats BatchLoader::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::vector<SkippedFile> BatchLoader::failures() const {
  std::vector<SkippedFile> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out = failures_;
  }
  std::sort(out.begin(), out.end(),
            [](const SkippedFile& a, const SkippedFile& b) { return a.path < b.path; });
  return out;
}

size_t BatchLoader::cached_images() const { return cached_.load(); }

}  // namespace fedsmear
