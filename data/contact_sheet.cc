#include "data/contact_sheet.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/preprocess.h"

namespace fedsmear {

Status WriteContactSheet(const Dataset& ds, int per_class, int cell, const std::string& path) {
  if (per_class < 1 || cell < 8) return InvalidArgument("contact sheet needs cells of >= 8 px");
  const int label_w = 150, pad = 4;
  const int rows = static_cast<int>(ds.class_names.size());
  cv::Mat sheet(rows * (cell + pad) + pad, label_w + per_class * (cell + pad) + pad, CV_8UC3,
                cv::Scalar(255, 255, 255));
  PreprocessConfig pre;
  for (int k = 0; k < rows; ++k) {
    const int y = pad + k * (cell + pad);
    cv::putText(sheet, ds.class_names[k], cv::Point(pad, y + cell / 2 + 5),
                cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    int col = 0;
    for (const Sample& s : ds.samples) {
      if (s.label != k || col >= per_class) continue;
      cv::Rect at(label_w + pad + col * (cell + pad), y, cell, cell);
      Result<cv::Mat> img = DecodeImage(s.path, DataConfig{}.max_image_side);
      if (img.ok()) {
        cv::Mat bgr;
        cv::cvtColor(ResizeForModel(*img, cell, pre), bgr, cv::COLOR_RGB2BGR);
        bgr.copyTo(sheet(at));
      } else {
        sheet(at).setTo(cv::Scalar(160, 160, 160));
      }
      ++col;
    }
  }
  try {
    if (!cv::imwrite(path, sheet)) return IoError("cannot write " + path);
  } catch (const cv::Exception& e) {
    return IoError("cannot write " + path + ": " + e.what());
  }
  return Status::Ok();
}

}  // namespace fedsmear
