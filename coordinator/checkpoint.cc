#include "coordinator/checkpoint.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "common/file_util.h"
#include "common/sha256.h"
#include "models/packed_model.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;
constexpr char kMagic[8] = {'F', 'S', 'C', 'K', 'P', 'T', '1', '\n'};

void PutBlock(std::string& out, const std::string& block) {
  uint64_t n = block.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out += block;
}

bool GetBlock(std::string_view in, size_t* pos, std::string_view* block) {
  uint64_t n = 0;
  if (in.size() - *pos < 8) return false;
  std::memcpy(&n, in.data() + *pos, 8);
  *pos += 8;
  if (n > in.size() - *pos) return false;
  *block = in.substr(*pos, n);
  *pos += n;
  return true;
}

std::vector<fs::path> CheckpointFiles(const std::string& run_dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(fs::path(run_dir) / "checkpoints", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("round-", 0) == 0 && e.path().extension() == ".ckpt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Status SaveCheckpoint(const std::string& run_dir, const Checkpoint& c, int keep) {
  std::string body(kMagic, sizeof(kMagic));
  nlohmann::json header = c.header;
  header["round"] = c.round;
  PutBlock(body, header.dump());
  PutBlock(body, c.strategy_state);
  PutBlock(body, PackModel(c.global, {BinaryCodec::kLatentF32, FloatCodec::kF32}));
  Digest256 d = Sha256Of(body);
  body.append(reinterpret_cast<const char*>(d.data()), d.size());
  char name[32];
  std::snprintf(name, sizeof(name), "round-%06d.ckpt", c.round);
  fs::path path = fs::path(run_dir) / "checkpoints" / name;
  RETURN_IF_ERROR(WriteFileAtomic(path.string(), body, 0600));
  std::vector<fs::path> files = CheckpointFiles(run_dir);
  for (size_t i = 0; i + static_cast<size_t>(std::max(keep, 1)) < files.size(); ++i) {
    std::error_code ec;
    fs::remove(files[i], ec);
  }
  return Status::Ok();
}

Result<Checkpoint> LoadCheckpointFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  if (bytes.size() < sizeof(kMagic) + 32 || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    return Corrupt(path + ": not a fedsmear checkpoint");
  }
  std::string_view body(bytes.data(), bytes.size() - 32);
  Digest256 d = Sha256Of(body);
  if (std::memcmp(d.data(), bytes.data() + body.size(), 32) != 0) {
    return Corrupt(path + ": checksum mismatch (torn or corrupted checkpoint)");
  }
  size_t pos = sizeof(kMagic);
  std::string_view header, strategy, model;
  if (!GetBlock(body, &pos, &header) || !GetBlock(body, &pos, &strategy) ||
      !GetBlock(body, &pos, &model) || pos != body.size()) {
    return Corrupt(path + ": malformed checkpoint");
  }
  Checkpoint c;
  c.header = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (c.header.is_discarded() || !c.header.contains("round")) {
    return Corrupt(path + ": bad checkpoint header");
  }
  c.round = c.header["round"].get<int>();
  c.strategy_state = std::string(strategy);
  Result<ModelState> global = UnpackModel(model);
  if (!global.ok()) return global.status().WithContext(path);
  c.global = std::move(*global);
  return c;
}

Result<Checkpoint> LoadLatestCheckpoint(const std::string& run_dir) {
  std::vector<fs::path> files = CheckpointFiles(run_dir);
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    Result<Checkpoint> c = LoadCheckpointFile(it->string());
    if (c.ok()) return c;
    spdlog::warn("skipping checkpoint: {}", c.status().message());
  }
  return NotFound("no valid checkpoint in " + run_dir + "/checkpoints");
}

}  // namespace fedsmear
