#include "data/preprocess.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>

#include "data/image_header.h"

namespace fedsmear {

Result<cv::Mat> DecodeImage(const std::string& path, int max_side) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return IoError("cannot read " + path);
  return DecodeImageBytes(bytes, max_side, path);
}

Result<cv::Mat> DecodeImageBytes(const std::string& bytes, int max_side, const std::string& name) {
  Result<ImageHeader> header = ParseImageHeader(bytes, /*complete=*/true, max_side);
  if (!header.ok()) return header.status();
  if (header->format == ImageFormat::kJpeg && !JpegHasEndMarker(bytes)) {
    return Corrupt("truncated JPEG (no end-of-image marker)");
  }
  cv::Mat raw;
  try {
    cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8UC1,
                const_cast<char*>(bytes.data()));  // imdecode only reads
    raw = cv::imdecode(buf, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR);
  } catch (const cv::Exception& e) {
    return Corrupt(std::string("undecodable ") + ImageFormatName(header->format) + ": " + e.what());
  }
  if (raw.empty()) {
    return Corrupt(std::string("undecodable ") + ImageFormatName(header->format) +
                   " (truncated or corrupt data)");
  }
  try {
    cv::Mat depth8;
    switch (raw.depth()) {
      case CV_8U: depth8 = raw; break;
      case CV_8S: raw.convertTo(depth8, CV_8U, 1.0, 128.0); break;
      case CV_16U: raw.convertTo(depth8, CV_8U, 1.0 / 257.0); break;
      case CV_16S: raw.convertTo(depth8, CV_8U, 1.0 / 257.0, 128.0); break;
      case CV_32F:
      case CV_64F: raw.convertTo(depth8, CV_8U, 255.0); break;
      default: return Corrupt("unsupported pixel depth in " + name);
    }
    cv::Mat rgb;
    switch (depth8.channels()) {
      case 1: cv::cvtColor(depth8, rgb, cv::COLOR_GRAY2RGB); break;
      case 2: {
        cv::Mat grey;
        cv::extractChannel(depth8, grey, 0);
        cv::cvtColor(grey, rgb, cv::COLOR_GRAY2RGB);
        break;
      }
      case 3: cv::cvtColor(depth8, rgb, cv::COLOR_BGR2RGB); break;
      case 4: cv::cvtColor(depth8, rgb, cv::COLOR_BGRA2RGB); break;
      default: return Corrupt("unsupported channel count in " + name);
    }
    return rgb;
  } catch (const cv::Exception& e) {
    return Corrupt("cannot convert " + name + ": " + e.what());
  }
}

cv::Scalar BorderMeanColour(const cv::Mat& rgb) {
  if (rgb.empty()) return cv::Scalar(0, 0, 0);
  const int w = rgb.cols, h = rgb.rows;
  cv::Scalar sum = cv::sum(rgb.row(0));
  int n = w;
  if (h > 1) {
    sum += cv::sum(rgb.row(h - 1));
    n += w;
  }
  if (h > 2) {
    sum += cv::sum(rgb(cv::Rect(0, 1, 1, h - 2)));
    n += h - 2;
    if (w > 1) {
      sum += cv::sum(rgb(cv::Rect(w - 1, 1, 1, h - 2)));
      n += h - 2;
    }
  }
  return sum / static_cast<double>(n);
}

cv::Mat ResizeForModel(const cv::Mat& rgb, int size, const PreprocessConfig& pre) {
  cv::Mat src = rgb;
  if (pre.center_crop < 1.0) {
    int cw = std::max(1, static_cast<int>(std::lround(rgb.cols * pre.center_crop)));
    int ch = std::max(1, static_cast<int>(std::lround(rgb.rows * pre.center_crop)));
    src = rgb(cv::Rect((rgb.cols - cw) / 2, (rgb.rows - ch) / 2, cw, ch));
  }
  cv::Mat out;
  if (pre.resize == ResizeMode::kStretch || src.cols == src.rows) {
    int interp = (src.cols > size || src.rows > size) ? cv::INTER_AREA : cv::INTER_LINEAR;
    cv::resize(src, out, cv::Size(size, size), 0, 0, interp);
    return out;
  }
  const double scale = static_cast<double>(size) / std::max(src.cols, src.rows);
  const int w = std::clamp(static_cast<int>(std::lround(src.cols * scale)), 1, size);
  const int h = std::clamp(static_cast<int>(std::lround(src.rows * scale)), 1, size);
  cv::Mat scaled;
  cv::resize(src, scaled, cv::Size(w, h), 0, 0, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
  const int left = (size - w) / 2, top = (size - h) / 2;
  cv::copyMakeBorder(scaled, out, top, size - h - top, left, size - w - left, cv::BORDER_CONSTANT,
                     BorderMeanColour(src));
  return out;
}

void NormalizeToCHW(const cv::Mat& rgb_square, const PreprocessConfig& pre, float* out) {
  const int rows = rgb_square.rows, cols = rgb_square.cols;
  const size_t plane = static_cast<size_t>(rows) * cols;
  float scale[3], shift[3];
  for (int c = 0; c < 3; ++c) {
    const double m = c < static_cast<int>(pre.mean.size()) ? pre.mean[c] : 0.0;
    const double s = c < static_cast<int>(pre.std.size()) ? pre.std[c] : 1.0;
    scale[c] = static_cast<float>(1.0 / (255.0 * s));
    shift[c] = static_cast<float>(-m / s);
  }
  for (int y = 0; y < rows; ++y) {
    const uint8_t* p = rgb_square.ptr<uint8_t>(y);
    const size_t base = static_cast<size_t>(y) * cols;
    for (int x = 0; x < cols; ++x) {
      for (int c = 0; c < 3; ++c) out[c * plane + base + x] = p[3 * x + c] * scale[c] + shift[c];
    }
  }
}

void ToTensorCHW(const cv::Mat& rgb, int size, const PreprocessConfig& pre, float* out) {
  NormalizeToCHW(ResizeForModel(rgb, size, pre), pre, out);
}

}  // namespace fedsmear
