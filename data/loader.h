// BatchLoader: decodes, preprocesses and augments images into float batches, ahead of training.
//
// An epoch visits `indices` (positions into dataset.samples) once, shuffled when training, and
// cuts them into batches of batch_size (the last one short, or dropped with drop_last). Worker
// threads build whole batches in parallel, at most `prefetch` batches ahead of the consumer; the
// consumer receives them strictly in order. Every random choice is seeded from (seed, epoch,
// position), so the batches are identical for any thread count.
//
// Files that fail to decode (truncated, corrupt, vanished) are left out of their batch (which is
// then shorter), counted in stats().skipped every time, logged once per file, and listed in
// failures(). A batch whose every file failed is not returned. With cache on, the resized 8-bit
// images (3*S*S bytes each) are kept after the first decode, so later epochs skip decoding.
//
// Thread-safety: one consumer thread calls StartEpoch/Next/stats; the object owns its worker
// threads and joins them in StartEpoch and in the destructor (no detached threads). The Dataset
// must outlive the loader and not change while it exists.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

#include "common/config.h"
#include "data/augment.h"
#include "data/dataset.h"

namespace fedsmear {

struct LoaderOptions {
  int batch_size = 32;
  int input_size = 64;
  PreprocessConfig pre;
  AugmentConfig aug;
  bool train = false;      // augment + shuffle (+ CutMix when aug.cutmix > 0)
  uint64_t seed = 1;
  int threads = 1;         // worker threads; 0 = build batches on the consumer thread
  bool drop_last = false;  // drop the final short batch
  bool cache = true;       // keep decoded+resized images in memory after the first epoch
  int prefetch = 0;        // batches built ahead of the consumer; 0 = 2 * threads + 1
  int max_image_side = DataConfig{}.max_image_side;
};

struct Batch {
  int n = 0;
  std::vector<float> images;     // n * 3 * S * S, CHW per image, normalised
  std::vector<int64_t> labels;
  std::vector<int64_t> labels_b;  // CutMix partner labels; empty when not mixed
  std::vector<float> lambda;      // CutMix weight of `labels`; empty when not mixed
  std::vector<size_t> indices;    // dataset sample index of each image
};

struct LoaderStats {
  int64_t images = 0;         // images delivered by Next()
  int64_t skipped = 0;        // sample visits dropped because decoding failed
  double wait_seconds = 0;    // time the consumer spent blocked in Next()
};

class BatchLoader {
 public:
  BatchLoader(const Dataset& dataset, std::vector<size_t> indices, LoaderOptions opts);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // Starts (or restarts) an epoch; stops and joins the workers of an unfinished one.
  void StartEpoch(int epoch);

  // Fills *out with the next batch; false at the end of the epoch (or before StartEpoch).
  bool Next(Batch* out);

  // Batches an epoch yields if no file fails.
  int64_t BatchesPerEpoch() const;

  LoaderStats stats() const;
  std::vector<SkippedFile> failures() const;  // files that failed to decode, once each
  size_t cached_images() const;

 private:
  void StopWorkers();
  void WorkerLoop();
  Batch BuildBatch(int64_t b);
  // Decoded and resized image of indices_[pos] (from the cache when present); empty on failure.
  cv::Mat LoadPrepared(size_t pos);

  const Dataset& dataset_;
  const std::vector<size_t> indices_;
  const LoaderOptions opts_;
  const Augmenter augmenter_;

  // Epoch state, written by StartEpoch while no worker runs.
  int epoch_ = 0;
  std::vector<size_t> order_;  // positions into indices_ for this epoch
  int64_t num_batches_ = 0;
  int64_t next_to_deliver_ = 0;

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable work_cv_;
  std::condition_variable ready_cv_;
  bool stop_ = false;
  int64_t next_to_build_ = 0;
  std::map<int64_t, Batch> ready_;
  LoaderStats stats_;
  std::set<size_t> failed_;  // sample indices that failed
  std::vector<SkippedFile> failures_;

  std::mutex cache_mu_;
  std::vector<cv::Mat> cache_;  // by position in indices_
  std::atomic<size_t> cached_{0};

  std::vector<std::thread> workers_;
};

}  // namespace fedsmear
