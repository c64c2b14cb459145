// Helpers for the fedsmear_data tests: a self-deleting temp folder and image writers.
// Images are generated here; the tests never read /work/shared/data (except real_data_test,
// which skips when it is absent).
#pragma once

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/temp_dir.h"

namespace fedsmear::testing {

namespace fs = std::filesystem;

using ::fedsmear::testing::TempDir;

inline void WriteBytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// Encodes `img` (BGR or grey, as OpenCV expects) with the extension's codec.
inline std::string Encode(const cv::Mat& img, const std::string& ext) {
  std::vector<uint8_t> buf;
  EXPECT_TRUE(cv::imencode(ext, img, buf)) << ext;
  return std::string(buf.begin(), buf.end());
}

// Writes a solid-colour image; `rgb` is given in RGB order.
inline void WriteSolid(const fs::path& path, int w, int h, cv::Scalar rgb,
                       const std::string& ext = ".png") {
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(rgb[2], rgb[1], rgb[0]));
  WriteBytes(path, Encode(img, ext));
}

// A textured image (gradient + circle) so codecs have something to compress.
inline cv::Mat Pattern(int w, int h, int seed = 0) {
  cv::Mat img(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      img.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>((x * 7 + seed) & 255),
                                          static_cast<uint8_t>((y * 5) & 255),
                                          static_cast<uint8_t>((x + y + seed * 3) & 255));
    }
  }
  cv::circle(img, {w / 2, h / 2}, std::min(w, h) / 3, cv::Scalar(40, 20, 200), cv::FILLED);
  return img;
}

// PNG signature + IHDR declaring w x h (no image data; enough for header probing).
inline std::string PngHeaderOnly(uint32_t w, uint32_t h) {
  std::string s("\x89PNG\r\n\x1a\n", 8);
  auto be32 = [&](uint32_t v) {
    for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 255));
  };
  be32(13);
  s += "IHDR";
  be32(w);
  be32(h);
  s += std::string("\x08\x02\x00\x00\x00", 5);
  be32(0);  // CRC (not checked by the probe)
  return s;
}

}  // namespace fedsmear::testing
