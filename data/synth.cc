#include "data/synth.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "data/random.h"

namespace fedsmear {
namespace fs = std::filesystem;
namespace {

constexpr double kPi = 3.14159265358979323846;

const std::vector<std::string>& RbcClasses() {
  static const std::vector<std::string> k = {"normal",      "elliptocyte", "spherocyte",
                                             "target",      "stomatocyte", "acanthocyte",
                                             "teardrop",    "hypochromic"};
  return k;
}
const std::vector<std::string>& WbcClasses() {
  static const std::vector<std::string> k = {"eosinophil", "lymphocyte", "monocyte", "neutrophil"};
  return k;
}

// Drawing context: canvas plus the random engine; colours are RGB.
struct Canvas {
  cv::Mat img;
  std::mt19937& rng;
  double U(double lo, double hi) { return UniformReal(rng, lo, hi); }
  cv::Scalar Jitter(cv::Scalar c, double amount) {
    for (int i = 0; i < 3; ++i) c[i] = std::clamp(c[i] + U(-amount, amount), 0.0, 255.0);
    return c;
  }
  void Ellipse(cv::Point2d c, double a, double b, double angle_deg, const cv::Scalar& colour) {
    cv::ellipse(img, cv::RotatedRect(cv::Point2f(c), cv::Size2f(2 * a, 2 * b), angle_deg),
                colour, cv::FILLED, cv::LINE_AA);
  }
  void Poly(const std::vector<cv::Point2d>& pts, const cv::Scalar& colour) {
    constexpr int kShift = 4;  // sub-pixel vertices
    std::vector<cv::Point> p;
    for (const auto& q : pts) {
      p.emplace_back(static_cast<int>(std::lround(q.x * (1 << kShift))),
                     static_cast<int>(std::lround(q.y * (1 << kShift))));
    }
    cv::fillPoly(img, std::vector<std::vector<cv::Point>>{p}, colour, cv::LINE_AA, kShift);
  }
};

cv::Scalar Mix(const cv::Scalar& a, const cv::Scalar& b, double t) { return a * (1 - t) + b * t; }

cv::Point2d Rot(cv::Point2d v, double rad) {
  return {v.x * std::cos(rad) - v.y * std::sin(rad), v.x * std::sin(rad) + v.y * std::cos(rad)};
}

void DrawRbc(Canvas& cv_, int cls, const cv::Scalar& bg, int size) {
  const double s = size;
  const cv::Point2d c(s / 2 + cv_.U(-0.06, 0.06) * s, s / 2 + cv_.U(-0.06, 0.06) * s);
  const double r = s * cv_.U(0.27, 0.35);
  const double ang = cv_.U(0, 180), rad = ang * kPi / 180;
  const cv::Scalar cell = cv_.Jitter(cv::Scalar(195, 105, 115), 18);
  const cv::Scalar pale = Mix(cell, bg, cv_.U(0.5, 0.65));
  switch (cls) {
    case 0:  // normal
      cv_.Ellipse(c, r, r * cv_.U(0.9, 1.0), ang, cell);
      cv_.Ellipse(c, r * cv_.U(0.32, 0.42), r * cv_.U(0.3, 0.4), ang, pale);
      break;
    case 1:  // elliptocyte
      cv_.Ellipse(c, r, r * cv_.U(0.42, 0.6), ang, cell);
      cv_.Ellipse(c, r * 0.5, r * 0.14, ang, Mix(cell, bg, 0.35));
      break;
    case 2:  // spherocyte
      cv_.Ellipse(c, r * cv_.U(0.6, 0.74), r * cv_.U(0.58, 0.72), ang, cell * 0.78);
      break;
    case 3:  // target
      cv_.Ellipse(c, r, r * cv_.U(0.92, 1.0), ang, cell);
      cv_.Ellipse(c, r * 0.58, r * 0.56, ang, pale);
      cv_.Ellipse(c, r * cv_.U(0.18, 0.26), r * cv_.U(0.18, 0.26), ang, cell);
      break;
    case 4:  // stomatocyte
      cv_.Ellipse(c, r, r * cv_.U(0.9, 1.0), ang, cell);
      cv_.Ellipse(c, r * cv_.U(0.42, 0.55), r * cv_.U(0.06, 0.11), ang, Mix(cell, bg, 0.7));
      break;
    case 5: {  // acanthocyte
      const int spikes = 5 + static_cast<int>(UniformIndex(cv_.rng, 5));
      std::vector<double> at(spikes), amp(spikes);
      for (int k = 0; k < spikes; ++k) {
        at[k] = 2 * kPi * (k + cv_.U(-0.3, 0.3)) / spikes;
        amp[k] = cv_.U(0.18, 0.35);
      }
      std::vector<cv::Point2d> pts;
      const double base = r * cv_.U(0.72, 0.85);
      for (int i = 0; i < 96; ++i) {
        const double t = 2 * kPi * i / 96;
        double bump = 0;
        for (int k = 0; k < spikes; ++k) {
          double d = std::remainder(t - at[k], 2 * kPi);
          bump += amp[k] * std::max(0.0, 1 - std::abs(d) / 0.22);
        }
        pts.push_back(c + cv::Point2d(std::cos(t), std::sin(t)) * base * (1 + bump));
      }
      cv_.Poly(pts, cell * 0.88);
      break;
    }
    case 6: {  // teardrop
      const double body = r * cv_.U(0.68, 0.8);
      const double tail = r * cv_.U(1.35, 1.7);
      const cv::Point2d centre = c - Rot({tail * 0.35, 0}, rad);
      std::vector<cv::Point2d> pts;
      for (int i = 0; i < 72; ++i) {
        const double t = 2 * kPi * i / 72;
        // Blend the circle towards the tip on the tail side.
        const double w = std::pow(std::max(0.0, std::cos(t)), 6);
        const double radius = body * (1 - w) + (tail + body * 0.2) * w;
        const cv::Point2d v(radius * std::cos(t), body * std::sin(t) * (1 - 0.8 * w));
        pts.push_back(centre + Rot(v, rad));
      }
      cv_.Poly(pts, cell);
      cv_.Ellipse(centre, body * 0.3, body * 0.28, ang, pale);
      break;
    }
    default:  // hypochromic
      cv_.Ellipse(c, r, r * cv_.U(0.92, 1.0), ang, cell);
      cv_.Ellipse(c, r * cv_.U(0.7, 0.8), r * cv_.U(0.66, 0.76), ang, Mix(cell, bg, 0.85));
      break;
  }
}

void DrawWbc(Canvas& cv_, int cls, const cv::Scalar& bg, int size) {
  const double s = size;
  // A few background red cells, mostly outside the centre.
  const int reds = 3 + static_cast<int>(UniformIndex(cv_.rng, 4));
  const cv::Scalar red = cv_.Jitter(cv::Scalar(215, 140, 150), 15);
  for (int i = 0; i < reds; ++i) {
    const double t = cv_.U(0, 2 * kPi), d = s * cv_.U(0.38, 0.6), rr = s * cv_.U(0.14, 0.2);
    const cv::Point2d p(s / 2 + d * std::cos(t), s / 2 + d * std::sin(t));
    cv_.Ellipse(p, rr, rr * cv_.U(0.85, 1), cv_.U(0, 180), red);
    cv_.Ellipse(p, rr * 0.4, rr * 0.4, 0, Mix(red, bg, 0.5));
  }
  const cv::Point2d c(s / 2 + cv_.U(-0.05, 0.05) * s, s / 2 + cv_.U(-0.05, 0.05) * s);
  const double rad = cv_.U(0, 2 * kPi), ang = rad * 180 / kPi;
  const cv::Scalar nucleus = cv_.Jitter(cv::Scalar(85, 40, 125), 15);
  cv::Scalar cyto = cv_.Jitter(cv::Scalar(205, 185, 220), 12);
  double R = s * cv_.U(0.27, 0.34);
  switch (cls) {
    case 0: {  // eosinophil: granules, bilobed nucleus
      cv_.Ellipse(c, R, R * cv_.U(0.9, 1), ang, cyto);
      const cv::Scalar gran = cv_.Jitter(cv::Scalar(225, 120, 80), 15);
      const int n = 40 + static_cast<int>(UniformIndex(cv_.rng, 40));
      for (int i = 0; i < n; ++i) {
        const double t = cv_.U(0, 2 * kPi), d = R * std::sqrt(cv_.U(0, 0.85));
        const double g = s * cv_.U(0.012, 0.025);
        cv_.Ellipse(c + cv::Point2d(d * std::cos(t), d * std::sin(t)), g, g, 0, gran);
      }
      const double off = R * cv_.U(0.28, 0.38), lobe = R * cv_.U(0.3, 0.38);
      cv_.Ellipse(c + Rot({off, 0}, rad), lobe, lobe * 0.85, ang, nucleus);
      cv_.Ellipse(c - Rot({off, 0}, rad), lobe, lobe * 0.85, ang, nucleus);
      cv::line(cv_.img, c + Rot({off, 0}, rad), c - Rot({off, 0}, rad), nucleus,
               std::max(1, static_cast<int>(R * 0.12)), cv::LINE_AA);
      break;
    }
    case 1:  // lymphocyte: small cell, big round nucleus
      R = s * cv_.U(0.2, 0.26);
      cv_.Ellipse(c, R, R * cv_.U(0.9, 1), ang, cyto * 0.92);
      cv_.Ellipse(c + Rot({R * 0.1, 0}, rad), R * cv_.U(0.78, 0.86), R * cv_.U(0.72, 0.82), ang,
                  nucleus * 0.9);
      break;
    case 2: {  // monocyte: large cell, kidney nucleus
      R = s * cv_.U(0.33, 0.4);
      cyto = cv_.Jitter(cv::Scalar(180, 180, 210), 10);
      cv_.Ellipse(c, R, R * cv_.U(0.85, 1), ang, cyto);
      cv_.Ellipse(c, R * cv_.U(0.6, 0.7), R * cv_.U(0.45, 0.55), ang, nucleus * 1.1);
      const double bite = R * cv_.U(0.28, 0.36);
      cv_.Ellipse(c + Rot({0, R * 0.5}, rad), bite, bite, 0, cyto);
      break;
    }
    default: {  // neutrophil: 3-5 lobes linked by thin strands
      cv_.Ellipse(c, R, R * cv_.U(0.9, 1), ang, cyto);
      const int lobes = 3 + static_cast<int>(UniformIndex(cv_.rng, 3));
      const double arc = R * 0.5, lobe = R * cv_.U(0.19, 0.24);
      std::vector<cv::Point2d> centres;
      for (int k = 0; k < lobes; ++k) {
        const double t = rad + (k - (lobes - 1) / 2.0) * cv_.U(0.9, 1.3);
        centres.push_back(c + cv::Point2d(arc * std::cos(t), arc * std::sin(t)));
      }
      for (int k = 0; k + 1 < lobes; ++k) {
        cv::line(cv_.img, centres[k], centres[k + 1], nucleus,
                 std::max(1, static_cast<int>(R * 0.07)), cv::LINE_AA);
      }
      for (const auto& p : centres) {
        cv_.Ellipse(p, lobe, lobe * cv_.U(0.8, 1), cv_.U(0, 180), nucleus);
      }
      break;
    }
  }
}

}  // namespace

std::vector<std::string> SynthClassNames(const std::string& task) {
  if (task == "rbc") return RbcClasses();
  if (task == "wbc") return WbcClasses();
  return {};
}

Result<cv::Mat> RenderSynthCell(const std::string& task, int class_id, int size,
                                std::mt19937& rng) {
  const auto names = SynthClassNames(task);
  if (names.empty()) return InvalidArgument("unknown synth task '" + task + "' (use rbc or wbc)");
  if (class_id < 0 || class_id >= static_cast<int>(names.size())) {
    return InvalidArgument("class id out of range for task " + task);
  }
  if (size < 16 || size > 4096) return InvalidArgument("synth image size must be in [16, 4096]");
  try {
    Canvas canvas{cv::Mat(), rng};
    const cv::Scalar bg =
        canvas.Jitter(task == "rbc" ? cv::Scalar(232, 222, 222) : cv::Scalar(238, 220, 226), 14);
    canvas.img = cv::Mat(size, size, CV_8UC3, bg);
    if (task == "rbc") {
      DrawRbc(canvas, class_id, bg, size);
    } else {
      DrawWbc(canvas, class_id, bg, size);
    }
    cv::Mat& img = canvas.img;
    const double sigma = canvas.U(0.3, 1.1) * size / 64.0;
    cv::GaussianBlur(img, img, cv::Size(0, 0), sigma);
    cv::Mat f;
    img.convertTo(f, CV_32FC3);
    const cv::Scalar gain(canvas.U(0.9, 1.1), canvas.U(0.9, 1.1), canvas.U(0.9, 1.1));
    cv::multiply(f, gain, f);
    cv::Mat noise(f.size(), CV_32FC3);
    cv::RNG cvrng(rng());
    cvrng.fill(noise, cv::RNG::NORMAL, 0, canvas.U(2, 8));
    f += noise;
    f.convertTo(img, CV_8UC3);
    return img;
  } catch (const cv::Exception& e) {
    return Internal(std::string("synth rendering failed: ") + e.what());
  }
}

Status WriteSynthDataset(const SynthOptions& opts, const std::string& out_root) {
  const auto names = SynthClassNames(opts.task);
  if (names.empty()) {
    return InvalidArgument("unknown synth task '" + opts.task + "' (use rbc or wbc)");
  }
  if (opts.per_class < 1) return InvalidArgument("per-class count must be >= 1");
  if (opts.size < 16 || opts.size > 4096) return InvalidArgument("size must be in [16, 4096]");
  const std::vector<int> params = {cv::IMWRITE_PNG_COMPRESSION, 1};
  for (size_t c = 0; c < names.size(); ++c) {
    const fs::path dir = fs::path(out_root) / names[c];
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
    for (int n = 0; n < opts.per_class; ++n) {
      std::mt19937 rng(MixSeed(opts.seed, c, static_cast<uint64_t>(n)));
      ASSIGN_OR_RETURN(cv::Mat rgb,
                       RenderSynthCell(opts.task, static_cast<int>(c), opts.size, rng));
      std::vector<uint8_t> png;
      try {
        cv::Mat bgr;
        cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
        cv::imencode(".png", bgr, png, params);
      } catch (const cv::Exception& e) {
        return Internal(std::string("PNG encoding failed: ") + e.what());
      }
      const fs::path file = dir / (std::to_string(n) + ".png");
      // Plain writes: an fsync per generated image would dominate the run time.
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(png.data()),
                static_cast<std::streamsize>(png.size()));
      if (!out) return IoError("cannot write " + file.string());
    }
  }
  return Status::Ok();
}

}  // namespace fedsmear
