#include "data/dataset.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "data/image_header.h"
#include "data/preprocess.h"
#include "tests/data/test_util.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

using testing::Encode;
using testing::Pattern;
using testing::TempDir;
using testing::WriteBytes;
using testing::WriteSolid;

const SkippedFile* FindSkipped(const Dataset& ds, const std::string& name) {
  for (const auto& s : ds.skipped) {
    if (fs::path(s.path).filename() == name) return &s;
  }
  return nullptr;
}

TEST(DatasetTest, FolderScanIsSortedAndDeterministic) {
  TempDir dir;
  for (const char* cls : {"b", "a"}) {
    for (const char* f : {"2.png", "10.png", "1.png"}) {
      WriteSolid(dir.path() / cls / f, 8, 8, {10, 20, 30});
    }
  }
  Result<Dataset> ds = ScanImageFolder(dir.path().string(), {});
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->class_names, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(ds->samples.size(), 6u);
  EXPECT_EQ(fs::path(ds->samples[0].path).filename(), "1.png");
  EXPECT_EQ(fs::path(ds->samples[1].path).filename(), "10.png");
  EXPECT_EQ(fs::path(ds->samples[2].path).filename(), "2.png");
  EXPECT_EQ(ds->samples[0].label, 0);
  EXPECT_EQ(ds->samples[3].label, 1);
  EXPECT_EQ(ds->ClassCounts(), (std::vector<int64_t>{3, 3}));
  EXPECT_TRUE(ds->skipped.empty());
  Result<Dataset> again = ScanImageFolder(dir.path().string(), {});
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < ds->samples.size(); ++i) {
    EXPECT_EQ(ds->samples[i].path, again->samples[i].path);
  }
}

TEST(DatasetTest, AllFormatsByContentNotExtension) {
  TempDir dir;
  const cv::Mat img = Pattern(20, 12);
  WriteBytes(dir.path() / "c" / "a.png", Encode(img, ".png"));
  WriteBytes(dir.path() / "c" / "b.jpg", Encode(img, ".jpg"));
  WriteBytes(dir.path() / "c" / "c.bmp", Encode(img, ".bmp"));
  WriteBytes(dir.path() / "c" / "d.tif", Encode(img, ".tiff"));
  WriteBytes(dir.path() / "c" / "e.jpg", Encode(img, ".png"));  // PNG named .jpg
  WriteBytes(dir.path() / "c" / "f.dat", Encode(img, ".bmp"));  // odd extension
  cv::Mat grey;
  cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
  WriteBytes(dir.path() / "c" / "g.png", Encode(grey, ".png"));
  Result<Dataset> ds = ScanImageFolder(dir.path().string(), {});
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->samples.size(), 7u);
  EXPECT_TRUE(ds->skipped.empty());
  for (const auto& s : ds->samples) {
    Result<ImageHeader> h = ProbeImageFile(s.path, 8192);
    ASSERT_TRUE(h.ok()) << s.path << " " << h.status();
    EXPECT_EQ(h->width, 20) << s.path;
    EXPECT_EQ(h->height, 12) << s.path;
    Result<cv::Mat> m = DecodeImage(s.path, 8192);
    ASSERT_TRUE(m.ok()) << s.path << " " << m.status();
    EXPECT_EQ(m->type(), CV_8UC3);
    EXPECT_EQ(m->cols, 20);
  }
}

TEST(DatasetTest, UnicodeSpacesAndHashInNames) {
  TempDir dir;
  const std::vector<std::string> names = {"ADB2-K1-0008 objek#60.png", "zellé ünïcode 細胞.png",
                                          "a#b c.png"};
  for (const auto& n : names) WriteSolid(dir.path() / "normal class" / n, 6, 6, {1, 2, 3});
  Result<Dataset> ds = ScanImageFolder(dir.path().string(), {});
  ASSERT_TRUE(ds.ok()) << ds.status();
  ASSERT_EQ(ds->samples.size(), 3u);
  EXPECT_EQ(ds->class_names[0], "normal class");
  for (const auto& s : ds->samples) {
    Result<cv::Mat> m = DecodeImage(s.path, 8192);
    EXPECT_TRUE(m.ok()) << s.path << " " << m.status();
  }
  const auto it = std::find_if(ds->samples.begin(), ds->samples.end(), [](const Sample& s) {
    return fs::path(s.path).filename() == "ADB2-K1-0008 objek#60.png";
  });
  ASSERT_NE(it, ds->samples.end());
  EXPECT_EQ(it->group, "ADB2-K1-0008");
}

TEST(DatasetTest, ModelClassesCaseInsensitiveUnknownReportedMissingFine) {
  TempDir dir;
  WriteSolid(dir.path() / "Neutrophil" / "1.png", 4, 4, {1, 1, 1});
  WriteSolid(dir.path() / "LYMPHOCYTE" / "1.png", 4, 4, {1, 1, 1});
  WriteSolid(dir.path() / "pencil" / "1.png", 4, 4, {1, 1, 1});
  WriteSolid(dir.path() / "pencil" / "2.png", 4, 4, {1, 1, 1});
  const std::vector<std::string> model = {"eosinophil", "lymphocyte", "neutrophil"};
  Result<Dataset> ds = ScanImageFolder(dir.path().string(), model);
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->class_names, model);
  EXPECT_EQ(ds->ClassCounts(), (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(ds->unknown_classes, (std::vector<std::string>{"pencil"}));
  ASSERT_EQ(ds->samples.size(), 2u);
  EXPECT_EQ(ds->samples[0].label, 1);
  EXPECT_EQ(ds->samples[1].label, 2);
}

TEST(DatasetTest, BadFilesAreSkippedWithReasons) {
  TempDir dir;
  const fs::path c = dir.path() / "cls";
  WriteSolid(c / "good.png", 8, 8, {5, 5, 5});
  WriteBytes(c / "empty.jpg", "");
  WriteBytes(c / ".DS_Store.jpg", std::string("\0\0\0\1Bud1\0\0\x10\0", 12) + "junkjunk");
  WriteBytes(c / "notes.jpg", "hello, I am text pretending to be a JPEG");
  WriteBytes(c / "huge.png", testing::PngHeaderOnly(100000, 50));
  WriteBytes(c / "zero.png", testing::PngHeaderOnly(0, 50));
  WriteBytes(c / "tiny.jpg", std::string("\xFF\xD8\xFF", 3));
  WriteSolid(dir.path() / "loose.png", 4, 4, {1, 1, 1});  // not in a class folder
  ScanOptions opts;
  opts.max_image_side = 4096;
  Result<Dataset> ds = ScanImageFolder(dir.path().string(), {}, opts);
  ASSERT_TRUE(ds.ok()) << ds.status();
  ASSERT_EQ(ds->samples.size(), 1u);
  EXPECT_EQ(fs::path(ds->samples[0].path).filename(), "good.png");
  ASSERT_NE(FindSkipped(*ds, "empty.jpg"), nullptr);
  EXPECT_EQ(FindSkipped(*ds, "empty.jpg")->reason, "empty file");
  ASSERT_NE(FindSkipped(*ds, ".DS_Store.jpg"), nullptr);
  EXPECT_NE(FindSkipped(*ds, ".DS_Store.jpg")->reason.find("not an image"), std::string::npos);
  ASSERT_NE(FindSkipped(*ds, "notes.jpg"), nullptr);
  ASSERT_NE(FindSkipped(*ds, "huge.png"), nullptr);
  EXPECT_NE(FindSkipped(*ds, "huge.png")->reason.find("100000x50 exceeds max_image_side 4096"),
            std::string::npos);
  ASSERT_NE(FindSkipped(*ds, "zero.png"), nullptr);
  ASSERT_NE(FindSkipped(*ds, "tiny.jpg"), nullptr);
  EXPECT_EQ(FindSkipped(*ds, "tiny.jpg")->reason, "truncated header");
  ASSERT_NE(FindSkipped(*ds, "loose.png"), nullptr);
  EXPECT_EQ(ds->skipped.size(), 7u);
}

TEST(DatasetTest, TruncatedJpegPassesScanButFailsDecode) {
  TempDir dir;
  const std::string jpg = Encode(Pattern(64, 64), ".jpg");
  WriteBytes(dir.path() / "c" / "cut.jpg", jpg.substr(0, jpg.size() / 2));
  Result<Dataset> ds = ScanImageFolder(dir.path().string(), {});
  ASSERT_TRUE(ds.ok());
  ASSERT_EQ(ds->samples.size(), 1u);  // header is intact
  Result<cv::Mat> m = DecodeImage(ds->samples[0].path, 8192);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(m.status().message().find("truncated"), std::string::npos);
}

TEST(DatasetTest, AbsurdBmpAndTiffHeaders) {
  const cv::Mat img = Pattern(10, 10);
  std::string bmp = Encode(img, ".bmp");
  bmp[18] = '\x00';
  bmp[19] = '\x00';
  bmp[20] = '\x10';  // width = 0x100000
  Result<ImageHeader> h = ParseImageHeader(bmp, true, 8192);
  EXPECT_EQ(h.status().code(), StatusCode::kResourceExhausted);
  Result<ImageHeader> t = ParseImageHeader(Encode(img, ".tiff"), true, 8);
  EXPECT_EQ(t.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(DetectImageFormat("GIF89a"), ImageFormat::kUnknown);
}

TEST(DatasetTest, MissingOrEmptyRoot) {
  TempDir dir;
  EXPECT_EQ(ScanImageFolder(dir.Sub("nope"), {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ScanImageFolder(dir.path().string(), {}).status().code(), StatusCode::kNotFound);
}

TEST(DatasetTest, GroupKeys) {
  EXPECT_EQ(GroupKeyFromName("_0_1234.jpeg"), "_0");
  EXPECT_EQ(GroupKeyFromName("_12_5.jpeg"), "_12");
  EXPECT_EQ(GroupKeyFromName("ADB3-K1-0014 objek#48.png"), "ADB3-K1-0014");
  EXPECT_EQ(GroupKeyFromName("BA_100102.jpg"), "BA_100102");
  EXPECT_EQ(GroupKeyFromName("_x_1.png"), "_x_1");
  EXPECT_EQ(DefaultGroupKey("Eosinophil", "_3_99.jpeg"), "eosinophil/_3");
  EXPECT_EQ(DefaultGroupKey("target", "S1 objek#2.png"), "S1");
}

TEST(DatasetTest, CsvSplitting) {
  std::vector<std::string> f;
  ASSERT_TRUE(SplitCsvLine(R"("a,b.png",normal,"g ""1""")", &f));
  EXPECT_EQ(f, (std::vector<std::string>{"a,b.png", "normal", "g \"1\""}));
  ASSERT_TRUE(SplitCsvLine("x,y", &f));
  EXPECT_EQ(f.size(), 2u);
  EXPECT_FALSE(SplitCsvLine("\"open,x", &f));
}

TEST(DatasetTest, ManifestRelativeQuotedHeaderAndGroups) {
  TempDir dir;
  WriteSolid(dir.path() / "img" / "a, one.png", 5, 5, {1, 2, 3});
  WriteSolid(dir.path() / "img" / "b#2 ü.png", 5, 5, {1, 2, 3});
  WriteSolid(dir.path() / "abs.png", 5, 5, {1, 2, 3});
  const std::string abs = (dir.path() / "abs.png").string();
  WriteBytes(dir.path() / "sub" / "m.csv",
             "path,label,group\r\n\"../img/a, one.png\",Normal,s1\r\n../img/b#2 ü.png,TARGET\n" +
                 abs + ",2,s9\n../img/missing.png,normal\n\"../img/a, one.png\",pencil\n\n");
  const std::vector<std::string> model = {"normal", "spherocyte", "target"};
  Result<Dataset> ds = LoadManifest(dir.Sub("sub/m.csv"), model);
  ASSERT_TRUE(ds.ok()) << ds.status();
  ASSERT_EQ(ds->samples.size(), 3u);
  EXPECT_EQ(ds->samples[0].label, 0);
  EXPECT_EQ(ds->samples[0].group, "s1");
  EXPECT_EQ(ds->samples[1].label, 2);
  EXPECT_EQ(ds->samples[1].group, "b#2 ü");
  EXPECT_EQ(ds->samples[2].label, 2);  // numeric label
  EXPECT_EQ(ds->samples[2].group, "s9");
  for (const auto& s : ds->samples) EXPECT_TRUE(DecodeImage(s.path, 8192).ok()) << s.path;
  EXPECT_EQ(ds->unknown_classes, (std::vector<std::string>{"pencil"}));
  ASSERT_EQ(ds->skipped.size(), 1u);
  EXPECT_EQ(ds->skipped[0].reason, "file not found");
}

TEST(DatasetTest, ManifestWithoutHeaderOrModelClasses) {
  TempDir dir;
  WriteSolid(dir.path() / "x.png", 5, 5, {1, 2, 3});
  WriteBytes(dir.path() / "m.csv", "x.png,b\nx.png,a\nx.png,B\n");
  Result<Dataset> ds = LoadManifest(dir.Sub("m.csv"), {});
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->class_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ds->ClassCounts(), (std::vector<int64_t>{1, 2}));
}

TEST(DatasetTest, ManifestErrors) {
  TempDir dir;
  EXPECT_EQ(LoadManifest(dir.Sub("none.csv"), {}).status().code(), StatusCode::kNotFound);
  WriteBytes(dir.path() / "bad.csv", "a.png,x\nonly-one-field\n");
  Result<Dataset> ds = LoadManifest(dir.Sub("bad.csv"), {});
  EXPECT_EQ(ds.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(ds.status().message().find(":2:"), std::string::npos) << ds.status();
}

TEST(DatasetTest, WriteManifestRoundTrip) {
  TempDir dir;
  WriteSolid(dir.path() / "a,b" / "x y.png", 5, 5, {1, 2, 3});
  Dataset ds;
  ds.class_names = {"c0", "c,1"};
  ds.samples = {{(dir.path() / "a,b" / "x y.png").string(), 1, "g\"q"}};
  ASSERT_TRUE(WriteManifest(dir.Sub("out.csv"), ds.class_names, ds.samples).ok());
  Result<Dataset> back = LoadManifest(dir.Sub("out.csv"), ds.class_names);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->samples.size(), 1u);
  EXPECT_EQ(back->samples[0].path, ds.samples[0].path);
  EXPECT_EQ(back->samples[0].label, 1);
  EXPECT_EQ(back->samples[0].group, "g\"q");
}

// A sample path relative to the working directory must still resolve once the manifest is
// read from another folder (fedsmear simulate --data ../shared/data/... wrote paths that the
// sites then looked up next to the manifest: 0 samples).
TEST(DatasetTest, WriteManifestMakesWorkingDirectoryPathsAbsolute) {
  TempDir dir;
  WriteSolid(dir.path() / "imgs" / "a.png", 5, 5, {1, 2, 3});
  fs::create_directories(dir.path() / "deeper");
  const fs::path old_cwd = fs::current_path();
  fs::current_path(dir.path());
  Dataset ds;
  ds.class_names = {"c0"};
  ds.samples = {{"imgs/../imgs/a.png", 0, ""}};
  Status st = WriteManifest((dir.path() / "deeper" / "out.csv").string(), ds.class_names,
                            ds.samples);
  fs::current_path(old_cwd);
  ASSERT_TRUE(st.ok()) << st;
  Result<Dataset> back = LoadManifest((dir.path() / "deeper" / "out.csv").string(), {"c0"});
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->samples.size(), 1u);
  EXPECT_EQ(fs::path(back->samples[0].path), dir.path() / "imgs" / "a.png");
  EXPECT_TRUE(fs::exists(back->samples[0].path));
}

}  // namespace
}  // namespace fedsmear
