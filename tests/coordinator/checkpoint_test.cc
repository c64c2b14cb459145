#include "coordinator/checkpoint.h"

#include <gtest/gtest.h>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <filesystem>

#include "common/file_util.h"
#include "common/sha256.h"
#include "common/wire/checkpoint.capnp.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

ModelState Model(float v) {
  ModelState s;
  s.meta = {"bdn-tiny", 2, 32, {"a", "b"}};
  s.tensors.push_back({"w", {2}, TensorKind::kFloat, {v, -v}});
  return s;
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("fedsmear_ckpt_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(CheckpointTest, SaveLoadAndKeepTheLastFew) {
  for (int r = 1; r <= 5; ++r) {
    Checkpoint c;
    c.round = r;
    c.header = {{"rng", "state" + std::to_string(r)}};
    c.strategy_state = std::string("adam\0moments", 12);
    c.global = Model(static_cast<float>(r));
    ASSERT_TRUE(SaveCheckpoint(dir_, c, 3).ok());
  }
  int files = 0;
  for (auto& e : fs::directory_iterator(fs::path(dir_) / "checkpoints")) files += e.is_regular_file();
  EXPECT_EQ(files, 3);
  auto latest = LoadLatestCheckpoint(dir_);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->round, 5);
  EXPECT_EQ(latest->header["rng"], "state5");
  EXPECT_EQ(latest->strategy_state, std::string("adam\0moments", 12));
  EXPECT_EQ(latest->global.tensors[0].values, (std::vector<float>{5, -5}));
}

TEST_F(CheckpointTest, CorruptLatestFallsBackToThePrevious) {
  for (int r = 1; r <= 2; ++r) {
    Checkpoint c;
    c.round = r;
    c.global = Model(static_cast<float>(r));
    ASSERT_TRUE(SaveCheckpoint(dir_, c, 3).ok());
  }
  std::string latest = dir_ + "/checkpoints/round-000002.ckpt";
  std::string bytes = *ReadFile(latest);
  bytes[bytes.size() / 2] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(latest, bytes).ok());
  EXPECT_EQ(LoadCheckpointFile(latest).status().code(), StatusCode::kCorrupt);
  auto c = LoadLatestCheckpoint(dir_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->round, 1);
  // Truncation is caught too.
  ASSERT_TRUE(WriteFileAtomic(latest, bytes.substr(0, 20)).ok());
  EXPECT_EQ(LoadLatestCheckpoint(dir_)->round, 1);
}

// A file as SaveCheckpoint frames it: magic, Cap'n Proto message, SHA-256.
std::string Framed(const std::string& magic, capnp::MessageBuilder& message) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  std::string body = magic + std::string(words.asChars().begin(), words.asChars().size());
  Digest256 d = Sha256Of(body);
  return body + std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

TEST_F(CheckpointTest, OlderAndNewerFormatsAreRefusedWithAClearMessage) {
  fs::create_directories(fs::path(dir_) / "checkpoints");
  const std::string old_file = dir_ + "/checkpoints/round-000004.ckpt";
  // Format 1: native-endian blocks after this magic.
  ASSERT_TRUE(WriteFileAtomic(old_file, std::string("FSCKPT1\n") + std::string(200, '\x01')).ok());
  Status st = LoadCheckpointFile(old_file).status();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("checkpoint written by an older fedsmear (format 1"),
            std::string::npos) << st.message();
  EXPECT_NE(st.message().find("start a new run"), std::string::npos) << st.message();
  // Resuming stops on it rather than falling back or starting afresh.
  EXPECT_EQ(LoadLatestCheckpoint(dir_).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(WriteFileAtomic(old_file, std::string("FSCKPT9\n") + std::string(64, '\0')).ok());
  st = LoadCheckpointFile(old_file).status();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("newer fedsmear (format 9"), std::string::npos) << st.message();
  // The version inside the message is checked too.
  capnp::MallocMessageBuilder m;
  auto root = m.initRoot<wire::checkpoint::Checkpoint>();
  root.setFormatVersion(7);
  root.setRound(4);
  ASSERT_TRUE(WriteFileAtomic(old_file, Framed("FSCKPT2\n", m)).ok());
  st = LoadCheckpointFile(old_file).status();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("format 7"), std::string::npos) << st.message();
}

TEST_F(CheckpointTest, SizesAndCountsAreValidatedBeforeUse) {
  fs::create_directories(fs::path(dir_) / "checkpoints");
  const std::string file = dir_ + "/checkpoints/round-000001.ckpt";
  auto build = [&](int64_t dim, unsigned values, uint8_t kind, const char* header) {
    capnp::MallocMessageBuilder m;
    auto root = m.initRoot<wire::checkpoint::Checkpoint>();
    root.setFormatVersion(wire::checkpoint::FORMAT_VERSION);
    root.setRound(1);
    root.setHeader(header);
    auto model = root.initModel();
    model.setArch("bdn-tiny");
    model.setClasses(2);
    model.setInputSize(32);
    auto t = model.initTensors(1)[0];
    t.setName("w");
    t.initShape(1).set(0, dim);
    t.setKind(kind);
    t.initValues(values);
    return Framed("FSCKPT2\n", m);
  };
  // Checksums hold; the content does not.
  struct Case {
    std::string bytes;
    const char* says;
  } cases[] = {
      {build(3, 2, 0, "{}"), "holds 2 values for its shape of 3"},
      {build(-1, 0, 0, "{}"), "negative dimension"},
      {build(2, 2, 9, "{}"), "unknown kind 9"},
      {build(2, 2, 0, "not json"), "bad checkpoint header"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(WriteFileAtomic(file, c.bytes).ok());
    Status st = LoadCheckpointFile(file).status();
    EXPECT_EQ(st.code(), StatusCode::kCorrupt) << c.says;
    EXPECT_NE(st.message().find(c.says), std::string::npos) << st.message();
  }
  ASSERT_TRUE(WriteFileAtomic(file, build(2, 2, 0, "{}")).ok());
  auto ok = LoadCheckpointFile(file);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->global.tensors[0].values.size(), 2u);
}

TEST_F(CheckpointTest, EveryTruncationIsCaught) {
  Checkpoint c;
  c.round = 1;
  c.header = {{"rng", "x"}};
  c.strategy_state = "state";
  c.global = Model(1);
  ASSERT_TRUE(SaveCheckpoint(dir_, c, 3).ok());
  const std::string file = dir_ + "/checkpoints/round-000001.ckpt";
  const std::string bytes = *ReadFile(file);
  for (size_t n = 0; n < bytes.size(); n += 7) {
    ASSERT_TRUE(WriteFileAtomic(file, bytes.substr(0, n)).ok());
    EXPECT_EQ(LoadCheckpointFile(file).status().code(), StatusCode::kCorrupt) << n;
  }
}

TEST_F(CheckpointTest, NothingToResume) {
  EXPECT_EQ(LoadLatestCheckpoint(dir_).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace fedsmear
