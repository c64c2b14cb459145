#include "data/preprocess.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/data/test_util.h"

namespace fedsmear {
namespace {

using testing::Encode;
using testing::TempDir;
using testing::WriteBytes;

TEST(PreprocessTest, DecodeGivesRgbOrder) {
  TempDir dir;
  testing::WriteSolid(dir.path() / "red.png", 7, 5, {255, 0, 0});
  testing::WriteSolid(dir.path() / "red.bmp", 7, 5, {255, 0, 0}, ".bmp");
  for (const char* f : {"red.png", "red.bmp"}) {
    Result<cv::Mat> m = DecodeImage(dir.Sub(f), 8192);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->type(), CV_8UC3);
    EXPECT_EQ(m->size(), cv::Size(7, 5));
    EXPECT_EQ(m->at<cv::Vec3b>(2, 3), cv::Vec3b(255, 0, 0)) << f;
  }
}

TEST(PreprocessTest, GreyReplicatedAndSixteenBitScaled) {
  TempDir dir;
  WriteBytes(dir.path() / "g.png", Encode(cv::Mat(4, 4, CV_8UC1, cv::Scalar(77)), ".png"));
  WriteBytes(dir.path() / "g16.tif", Encode(cv::Mat(4, 4, CV_16UC1, cv::Scalar(65535)), ".tiff"));
  const cv::Mat c16(4, 4, CV_16UC3, cv::Scalar(0, 257 * 10, 257 * 200));  // BGR
  WriteBytes(dir.path() / "c16.png", Encode(c16, ".png"));
  Result<cv::Mat> g = DecodeImage(dir.Sub("g.png"), 8192);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->type(), CV_8UC3);
  EXPECT_EQ(g->at<cv::Vec3b>(1, 1), cv::Vec3b(77, 77, 77));
  Result<cv::Mat> t = DecodeImage(dir.Sub("g16.tif"), 8192);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->type(), CV_8UC3);
  EXPECT_EQ(t->at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));
  Result<cv::Mat> c = DecodeImage(dir.Sub("c16.png"), 8192);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->at<cv::Vec3b>(0, 0), cv::Vec3b(200, 10, 0));  // BGR file -> RGB
}

TEST(PreprocessTest, DecodeErrors) {
  TempDir dir;
  EXPECT_EQ(DecodeImage(dir.Sub("missing.png"), 8192).status().code(), StatusCode::kNotFound);
  WriteBytes(dir.path() / "big.png", Encode(cv::Mat(30, 40, CV_8UC3, cv::Scalar(1, 2, 3)), ".png"));
  EXPECT_EQ(DecodeImage(dir.Sub("big.png"), 32).status().code(), StatusCode::kResourceExhausted);
  const std::string png = Encode(testing::Pattern(64, 64), ".png");
  WriteBytes(dir.path() / "cut.png", png.substr(0, png.size() / 2));
  EXPECT_EQ(DecodeImage(dir.Sub("cut.png"), 8192).status().code(), StatusCode::kCorrupt);
}

TEST(PreprocessTest, TensorLayoutAndNormalisation) {
  cv::Mat rgb(10, 10, CV_8UC3, cv::Scalar(255, 0, 51));
  PreprocessConfig pre;
  pre.mean = {0.5, 0.5, 0.2};
  pre.std = {0.25, 0.5, 0.1};
  const int s = 6;
  std::vector<float> out(3 * s * s + 1, 123.f);
  ToTensorCHW(rgb, s, pre, out.data());
  EXPECT_FLOAT_EQ(out.back(), 123.f);  // nothing written past 3*S*S
  for (int i = 0; i < s * s; ++i) {
    EXPECT_NEAR(out[i], (1.0 - 0.5) / 0.25, 1e-5);
    EXPECT_NEAR(out[s * s + i], (0.0 - 0.5) / 0.5, 1e-5);
    EXPECT_NEAR(out[2 * s * s + i], (0.2 - 0.2) / 0.1, 1e-5);
  }
}

TEST(PreprocessTest, PadKeepsAspectStretchDoesNot) {
  // 40x20: left half red, right half blue.
  cv::Mat rgb(20, 40, CV_8UC3, cv::Scalar(0, 0, 255));
  rgb(cv::Rect(0, 0, 20, 20)).setTo(cv::Scalar(255, 0, 0));
  PreprocessConfig pre;
  cv::Mat pad = ResizeForModel(rgb, 20, pre);
  ASSERT_EQ(pad.size(), cv::Size(20, 20));
  ASSERT_EQ(pad.type(), CV_8UC3);
  const cv::Vec3b border = pad.at<cv::Vec3b>(0, 10);
  EXPECT_NEAR(border[0], 127, 2);  // mean of the red and blue border
  EXPECT_NEAR(border[2], 127, 2);
  EXPECT_EQ(pad.at<cv::Vec3b>(10, 2), cv::Vec3b(255, 0, 0));
  EXPECT_EQ(pad.at<cv::Vec3b>(10, 17), cv::Vec3b(0, 0, 255));
  pre.resize = ResizeMode::kStretch;
  cv::Mat st = ResizeForModel(rgb, 20, pre);
  EXPECT_EQ(st.at<cv::Vec3b>(0, 2), cv::Vec3b(255, 0, 0));
  EXPECT_EQ(st.at<cv::Vec3b>(19, 17), cv::Vec3b(0, 0, 255));
}

TEST(PreprocessTest, CentreCrop) {
  cv::Mat rgb(40, 40, CV_8UC3, cv::Scalar(0, 0, 0));
  rgb(cv::Rect(10, 10, 20, 20)).setTo(cv::Scalar(0, 255, 0));
  PreprocessConfig pre;
  pre.center_crop = 0.5;
  cv::Mat out = ResizeForModel(rgb, 8, pre);
  ASSERT_EQ(out.size(), cv::Size(8, 8));
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 255, 0));
  EXPECT_EQ(out.at<cv::Vec3b>(7, 7), cv::Vec3b(0, 255, 0));
}

TEST(PreprocessTest, UpscaleSmallImages) {
  cv::Mat rgb(5, 3, CV_8UC3, cv::Scalar(9, 9, 9));
  cv::Mat out = ResizeForModel(rgb, 64, PreprocessConfig{});
  EXPECT_EQ(out.size(), cv::Size(64, 64));
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(9, 9, 9));
}

}  // namespace
}  // namespace fedsmear
