#include "data/augment.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "data/preprocess.h"
#include "data/random.h"

namespace fedsmear {

bool Augmenter::enabled() const {
  return cfg_.hflip || cfg_.vflip || cfg_.rot90 || cfg_.rotate_deg > 0 || cfg_.zoom > 0 ||
         cfg_.translate > 0 || cfg_.brightness > 0 || cfg_.contrast > 0 || cfg_.hue > 0;
}

void Augmenter::Apply(cv::Mat* img, std::mt19937& rng) const {
  cv::Mat& m = *img;
  if (m.empty()) return;
  // Draw every random number unconditionally and in a fixed order, so enabling one option does
  // not shift the draws of the others.
  const bool hflip = Bernoulli(rng, 0.5) && cfg_.hflip;
  const bool vflip = Bernoulli(rng, 0.5) && cfg_.vflip;
  const int quarter_draw = static_cast<int>(UniformIndex(rng, 4));
  const int quarter = cfg_.rot90 ? quarter_draw : 0;
  const double angle = UniformReal(rng, -cfg_.rotate_deg, cfg_.rotate_deg);
  const double scale = UniformReal(rng, 1.0 - cfg_.zoom, 1.0 + cfg_.zoom);
  const double tx = UniformReal(rng, -cfg_.translate, cfg_.translate) * m.cols;
  const double ty = UniformReal(rng, -cfg_.translate, cfg_.translate) * m.rows;
  const double bright = UniformReal(rng, -cfg_.brightness, cfg_.brightness);
  const double contrast = UniformReal(rng, 1.0 - cfg_.contrast, 1.0 + cfg_.contrast);
  const double hue = UniformReal(rng, -cfg_.hue, cfg_.hue);

  if (hflip && vflip) {
    cv::flip(m, m, -1);
  } else if (hflip) {
    cv::flip(m, m, 1);
  } else if (vflip) {
    cv::flip(m, m, 0);
  }
  if (quarter != 0 && m.rows == m.cols) {
    static constexpr int kCodes[] = {0, cv::ROTATE_90_CLOCKWISE, cv::ROTATE_180,
                                     cv::ROTATE_90_COUNTERCLOCKWISE};
    cv::rotate(m, m, kCodes[quarter]);
  }
  const bool warp = std::abs(angle) > 1e-3 || std::abs(scale - 1.0) > 1e-4 ||
                    std::abs(tx) > 1e-3 || std::abs(ty) > 1e-3;
  if (warp) {
    cv::Point2f centre(0.5f * (m.cols - 1), 0.5f * (m.rows - 1));
    cv::Mat affine = cv::getRotationMatrix2D(centre, angle, scale);
    affine.at<double>(0, 2) += tx;
    affine.at<double>(1, 2) += ty;
    cv::Mat out;
    cv::warpAffine(m, out, affine, m.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                   BorderMeanColour(m));
    m = out;
  }
  if (std::abs(hue) > 1e-4) {
    cv::Mat hsv;
    cv::cvtColor(m, hsv, cv::COLOR_RGB2HSV_FULL);  // hue in 0..255 = full circle
    const int shift = static_cast<int>(std::lround(hue * 256.0));
    for (int y = 0; y < hsv.rows; ++y) {
      uint8_t* p = hsv.ptr<uint8_t>(y);
      for (int x = 0; x < hsv.cols; ++x) p[3 * x] = static_cast<uint8_t>((p[3 * x] + shift) & 255);
    }
    cv::cvtColor(hsv, m, cv::COLOR_HSV2RGB_FULL);
  }
  if (std::abs(contrast - 1.0) > 1e-4 || std::abs(bright) > 1e-4) {
    // y = (x - mean) * contrast + mean + bright*255, per channel mean of the image.
    const cv::Scalar mean = cv::mean(m);
    double grey = (mean[0] + mean[1] + mean[2]) / 3.0;
    m.convertTo(m, CV_8U, contrast, (1.0 - contrast) * grey + bright * 255.0);
  }
}

CutMixResult ApplyCutMix(float* images, int n, int size, const std::vector<int64_t>& labels,
                         double prob, std::mt19937& rng) {
  CutMixResult r;
  r.label_a = labels;
  const bool mix = Bernoulli(rng, prob) && n >= 2;
  if (!mix) return r;
  std::vector<int> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  Shuffle(&perm, rng);
  const double lam = Uniform01(rng);
  const double cut = std::sqrt(1.0 - lam);
  const int bw = static_cast<int>(std::lround(size * cut));
  const int cx = static_cast<int>(UniformIndex(rng, size));
  const int cy = static_cast<int>(UniformIndex(rng, size));
  const int x0 = std::clamp(cx - bw / 2, 0, size), x1 = std::clamp(cx + bw - bw / 2, 0, size);
  const int y0 = std::clamp(cy - bw / 2, 0, size), y1 = std::clamp(cy + bw - bw / 2, 0, size);
  const float lam_adj =
      1.0f - static_cast<float>((x1 - x0) * (y1 - y0)) / static_cast<float>(size * size);
  r.applied = true;
  r.label_b.resize(n);
  r.lambda.assign(n, lam_adj);
  const size_t per_image = 3ull * size * size;
  std::vector<float> original(images, images + per_image * n);
  for (int i = 0; i < n; ++i) {
    const int j = perm[i];
    r.label_b[i] = labels[j];
    if (x1 <= x0) continue;
    for (int c = 0; c < 3; ++c) {
      for (int y = y0; y < y1; ++y) {
        const size_t off = c * static_cast<size_t>(size) * size + static_cast<size_t>(y) * size;
        std::memcpy(images + per_image * i + off + x0, original.data() + per_image * j + off + x0,
                    sizeof(float) * (x1 - x0));
      }
    }
  }
  return r;
}

}  // namespace fedsmear
