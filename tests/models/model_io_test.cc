#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "models/densenet.h"
#include "models/packed_model.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

class ModelIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fedsmear_model_io_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }

  // A bdn-tiny model with non-trivial BN statistics.
  DenseNet TrainedTiny() {
    torch::manual_seed(5);
    DenseNet m = *MakeModel("bdn-tiny", 3, 32);
    m->train();
    torch::NoGradGuard g;
    for (int i = 0; i < 3; ++i) m->forward(torch::randn({8, 3, 32, 32}) * 2 + 0.5);
    m->eval();
    return m;
  }
  fs::path dir_;
};

TEST_F(ModelIoTest, PackedRoundTripGivesTheSameInference) {
  DenseNet m = TrainedTiny();
  ModelState s = ExportState(m, {"x", "y", "z"});
  auto restored = UnpackModel(PackModel(s));
  ASSERT_TRUE(restored.ok()) << restored.status();
  auto m2 = ModelFromState(*restored);
  ASSERT_TRUE(m2.ok()) << m2.status();
  (*m2)->eval();
  torch::NoGradGuard g;
  auto x = torch::randn({4, 3, 32, 32});
  EXPECT_TRUE(torch::allclose(m->forward(x), (*m2)->forward(x), 1e-5, 1e-5));
  // Signs of every binary tensor are identical, floats bit-identical.
  ModelState back = ExportState(*m2, {"x", "y", "z"});
  for (size_t i = 0; i < s.tensors.size(); ++i) {
    const auto& a = s.tensors[i];
    const auto& b = back.tensors[i];
    for (size_t j = 0; j < a.values.size(); ++j) {
      if (a.kind == TensorKind::kBinary) {
        ASSERT_EQ(a.values[j] >= 0, b.values[j] >= 0) << a.name;
      } else {
        ASSERT_EQ(a.values[j], b.values[j]) << a.name;
      }
    }
  }
  // fp16 floats: close, not equal. A binarized network amplifies rounding where an activation
  // sits near zero and flips sign, so closeness is judged against the logits' scale.
  auto half = ModelFromState(*UnpackModel(PackModel(s, *ParseDownlinkCodec("sign1+f16"))));
  ASSERT_TRUE(half.ok());
  (*half)->eval();
  auto ya = m->forward(x), yb = (*half)->forward(x);
  EXPECT_LT((ya - yb).abs().max().item<float>(), 0.1 * ya.abs().max().item<float>())
      << "max |diff| " << (ya - yb).abs().max().item<float>() << ", max |y| "
      << ya.abs().max().item<float>();
}

TEST_F(ModelIoTest, Bdn28PackedSizeAndFloatCheckpointSize) {
  DenseNet m = *MakeModel("bdn28", 8, 64);
  ModelState s = ExportState(m, {});
  double packed_mib = PackModel(s).size() / 1048576.0;
  double float_mib = PackModel(s, LosslessPackOptions()).size() / 1048576.0;
  EXPECT_LE(packed_mib, 1.95);
  EXPECT_NEAR(float_mib, 17.4, 0.2);
}

TEST_F(ModelIoTest, FilesAreCheckedAgainstTheArchitecture) {
  DenseNet m = TrainedTiny();
  ModelState s = ExportState(m, {"x", "y", "z"});
  ASSERT_TRUE(WriteFileAtomic(Path("ok.model"), PackModel(s)).ok());
  EXPECT_TRUE(LoadModelFile(Path("ok.model")).ok());
  // A state whose tensors do not fit the named architecture is refused.
  ModelState wrong = s;
  wrong.meta.arch = "bdn28";
  ASSERT_TRUE(WriteFileAtomic(Path("wrong.model"), PackModel(wrong)).ok());
  auto r = LoadModelFile(Path("wrong.model"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expected"), std::string::npos) << r.status();
  // Truncated file.
  std::string bytes = PackModel(s);
  ASSERT_TRUE(WriteFileAtomic(Path("cut.model"), bytes.substr(0, bytes.size() / 2)).ok());
  EXPECT_EQ(LoadModelFile(Path("cut.model")).status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(LoadModelFile(Path("missing.model")).status().code(), StatusCode::kNotFound);
}

TEST_F(ModelIoTest, TrainingStateRoundTrip) {
  DenseNet m = TrainedTiny();
  torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(1e-3));
  m->train();
  auto loss = m->forward(torch::randn({4, 3, 32, 32})).sum();
  loss.backward();
  opt.step();
  ASSERT_TRUE(SaveTrainingState(m, opt, Path("state.pt")).ok());
  DenseNet m2 = *MakeModel("bdn-tiny", 3, 32);
  torch::optim::Adam opt2(m2->parameters(), torch::optim::AdamOptions(1e-3));
  ASSERT_TRUE(LoadTrainingState(Path("state.pt"), m2, opt2).ok());
  auto p1 = m->named_parameters();
  auto p2 = m2->named_parameters();
  for (auto& p : p1) EXPECT_TRUE(torch::equal(p.value(), p2[p.key()])) << p.key();
  EXPECT_EQ(opt2.state().size(), opt.state().size());
  std::ofstream(Path("junk.pt")) << "junk";
  EXPECT_EQ(LoadTrainingState(Path("junk.pt"), m2, opt2).code(), StatusCode::kCorrupt);
}

TEST_F(ModelIoTest, PythonTorchLoadReadsTheExport) {
  DenseNet m = TrainedTiny();
  ModelState s = ExportState(m, {"x", "y", "z"});
  ASSERT_TRUE(ExportTorchPickle(s, Path("w.pt")).ok());
  // Debian's python3-torch lives under /usr/bin/python3, which a pyenv shim may hide.
  const char* env = std::getenv("FEDSMEAR_PYTHON");
  std::string python = env ? env : (fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
  if (std::system((python + " -c 'import torch' >/dev/null 2>&1").c_str()) != 0) {
    GTEST_SKIP() << "python3-torch is not installed; cannot check torch.load";
  }
  const NamedTensor* w = s.Find("head.fc.weight");
  ASSERT_NE(w, nullptr);
  std::string script = Path("check.py");
  std::ofstream(script) << "import sys, torch\n"
                           "d = torch.load(sys.argv[1])\n"
                           "print(len(d), tuple(d['head.fc.weight'].shape), "
                           "float(d['head.fc.weight'][0, 0]))\n";
  std::string out_path = Path("out.txt");
  std::string cmd = python + " " + script + " " + Path("w.pt") + " > " + out_path + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << *ReadFile(out_path);
  std::string out = *ReadFile(out_path);
  EXPECT_NE(out.find(std::to_string(s.tensors.size()) + " (3, "), std::string::npos) << out;
  float printed = std::stof(out.substr(out.rfind(' ') + 1));
  EXPECT_NEAR(printed, w->values[0], 1e-6);
}

}  // namespace
}  // namespace fedsmear
