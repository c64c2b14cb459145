#include "coordinator/checkpoint.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "common/file_util.h"
#include "common/wire/checkpoint.capnp.h"
#include "models/capnp_file.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;
namespace ck = wire::checkpoint;

constexpr char kMagicName[] = "FSCKPT";  // then the format number as a digit and '\n'

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

Status RefuseFormat(const std::string& path, uint32_t format) {
  if (format < ck::FORMAT_VERSION) {
    return FailedPrecondition(
        path + ": checkpoint written by an older fedsmear (format " + std::to_string(format) +
        ", this build reads format " + std::to_string(ck::FORMAT_VERSION) +
        "); start a new run (without --resume, or in a new run directory) or finish this one "
        "with the fedsmear version that wrote it");
  }
  return FailedPrecondition(path + ": checkpoint written by a newer fedsmear (format " +
                            std::to_string(format) + ", this build reads format " +
                            std::to_string(ck::FORMAT_VERSION) + "); upgrade fedsmear to resume");
}


Result<Checkpoint> Parse(const std::string& path, kj::Array<capnp::word> words) {
  try {
    capnp::FlatArrayMessageReader reader(words, ReaderOptionsFor(words));
    if (reader.getEnd() != words.end()) return Corrupt(path + ": trailing bytes in checkpoint");
    auto root = reader.getRoot<ck::Checkpoint>();
    if (root.getFormatVersion() != ck::FORMAT_VERSION) {
      return RefuseFormat(path, root.getFormatVersion());
    }
    Checkpoint c;
    c.round = root.getRound();
    if (c.round < 1) return Corrupt(path + ": checkpoint of round " + std::to_string(c.round));
    c.header = nlohmann::json::parse(root.getHeader().cStr(), nullptr, /*allow_exceptions=*/false);
    if (c.header.is_discarded() || !c.header.is_object()) {
      return Corrupt(path + ": bad checkpoint header");
    }
    auto state = root.getStrategyState();
    c.strategy_state.assign(reinterpret_cast<const char*>(state.begin()), state.size());
    if (!root.hasModel()) return Corrupt(path + ": checkpoint holds no model");
    Result<ModelState> global = ReadModel(root.getModel());
    if (!global.ok()) return Corrupt(path + ": " + global.status().message());
    c.global = std::move(*global);
    return c;
  } catch (const kj::Exception& e) {
    return Corrupt(path + ": malformed checkpoint: " + e.getDescription().cStr());
  }
}

}  // namespace

Status SaveCheckpoint(const std::string& run_dir, const Checkpoint& c, int keep) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<ck::Checkpoint>();
  root.setFormatVersion(ck::FORMAT_VERSION);
  root.setRound(c.round);
  nlohmann::json header = c.header;
  header["round"] = c.round;
  root.setHeader(CapnpText(header.dump()));
  root.setStrategyState(kj::arrayPtr(reinterpret_cast<const kj::byte*>(c.strategy_state.data()),
                                     c.strategy_state.size()));
  WriteModel(c.global, root.initModel());
  const std::string body = FrameCapnpFile(kMagicName, ck::FORMAT_VERSION, message);
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
  // The format is known before the checksum: an old file is refused for what it is.
  Result<uint32_t> format = FileFormat(path, bytes, kMagicName);
  if (!format.ok()) return Corrupt(path + ": not a fedsmear checkpoint");
  if (*format != ck::FORMAT_VERSION) return RefuseFormat(path, *format);
  Result<kj::Array<capnp::word>> words = VerifiedMessage(path, bytes);
  if (!words.ok()) return words.status();
  return Parse(path, std::move(*words));
}

Result<Checkpoint> LoadLatestCheckpoint(const std::string& run_dir) {
  std::vector<fs::path> files = CheckpointFiles(run_dir);
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    Result<Checkpoint> c = LoadCheckpointFile(it->string());
    if (c.ok()) return c;
    // A checkpoint of another format is no torn file: older ones are of that format too.
    if (c.status().code() == StatusCode::kFailedPrecondition) return c.status();
    spdlog::warn("skipping checkpoint: {}", c.status().message());
  }
  return NotFound("no valid checkpoint in " + run_dir + "/checkpoints");
}

}  // namespace fedsmear
