// Training-time augmentation (never used for evaluation).
//
// Per image (Augmenter::Apply, on the 8-bit RGB size x size image the loader caches): flips,
// rot90, free rotation, zoom and translation as one affine warp whose uncovered area is filled
// with the image's border mean colour, then brightness (additive, in [0,1] units), contrast
// (multiplicative around the image mean) and hue (rotation of the HSV hue circle). Per batch
// (ApplyCutMix, on normalised CHW floats): with probability cfg.cutmix, every sample i gets a
// random box pasted from sample perm[i]; labels stay, lambda says how much of the image is
// still sample i's own. Shapes never change; labels are never altered.
//
// Randomness comes only from the std::mt19937 passed in (see random.h), so a seed reproduces the
// result exactly. Thread-safety: Augmenter is immutable after construction and may be shared by
// threads, each with its own engine.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "common/config.h"

namespace fedsmear {

class Augmenter {
 public:
  explicit Augmenter(const AugmentConfig& cfg) : cfg_(cfg) {}

  // True when Apply can change an image (some per-image augmentation is on).
  bool enabled() const;

  // Augments a CV_8UC3 image in place; size and type are preserved.
  void Apply(cv::Mat* rgb, std::mt19937& rng) const;

  const AugmentConfig& config() const { return cfg_; }

 private:
  AugmentConfig cfg_;
};

struct CutMixResult {
  bool applied = false;
  std::vector<int64_t> label_a;  // = the batch's labels
  std::vector<int64_t> label_b;  // label of the pasted sample
  std::vector<float> lambda;     // share of the image that is still label_a, in [0,1]
};

// CutMix over a batch of n CHW images of side `size` (3 channels), in place. With probability
// `prob` (else result.applied = false and images are untouched) draws a permutation and one box
// (area share 1 - lambda, lambda ~ U(0,1)), pastes the box of image perm[i] into image i, and
// reports lambda corrected for clipping at the border. n < 2 never mixes.
CutMixResult ApplyCutMix(float* images, int n, int size, const std::vector<int64_t>& labels,
                         double prob, std::mt19937& rng);

}  // namespace fedsmear
