#include "coordinator/checkpoint.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "common/file_util.h"
#include "common/sha256.h"
#include "common/wire/checkpoint.capnp.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;
namespace ck = wire::checkpoint;

constexpr size_t kMagicSize = 8;
constexpr char kMagicPrefix[] = "FSCKPT";  // then the format number as a digit and '\n'
constexpr size_t kDigest = 32;
// Sanity bounds checked before anything is sized from the file.
constexpr uint32_t kMaxTensors = 100000;
constexpr uint32_t kMaxClasses = 100000;
constexpr uint32_t kMaxRank = 8;

std::string Magic() {
  return std::string(kMagicPrefix) + std::to_string(ck::FORMAT_VERSION) + "\n";
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

capnp::Text::Reader AsText(const std::string& s) { return capnp::Text::Reader(s.data(), s.size()); }
std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

void WriteModel(const ModelState& m, ck::Model::Builder out) {
  out.setArch(AsText(m.meta.arch));
  out.setClasses(m.meta.classes);
  out.setInputSize(m.meta.input_size);
  auto names = out.initClassNames(static_cast<unsigned>(m.meta.class_names.size()));
  for (size_t i = 0; i < m.meta.class_names.size(); ++i) {
    names.set(static_cast<unsigned>(i), AsText(m.meta.class_names[i]));
  }
  auto tensors = out.initTensors(static_cast<unsigned>(m.tensors.size()));
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    const NamedTensor& t = m.tensors[i];
    auto b = tensors[static_cast<unsigned>(i)];
    b.setName(AsText(t.name));
    auto shape = b.initShape(static_cast<unsigned>(t.shape.size()));
    for (size_t d = 0; d < t.shape.size(); ++d) shape.set(static_cast<unsigned>(d), t.shape[d]);
    b.setKind(static_cast<uint8_t>(t.kind));
    auto values = b.initValues(static_cast<unsigned>(t.values.size()));
    for (size_t k = 0; k < t.values.size(); ++k) values.set(static_cast<unsigned>(k), t.values[k]);
  }
}

Result<ModelState> ReadModel(ck::Model::Reader in) {
  ModelState m;
  m.meta.arch = Str(in.getArch());
  m.meta.classes = in.getClasses();
  m.meta.input_size = in.getInputSize();
  if (m.meta.arch.empty() || m.meta.classes < 1 || static_cast<uint32_t>(m.meta.classes) >
      kMaxClasses || m.meta.input_size < 1) {
    return Corrupt("model metadata out of range (arch '" + m.meta.arch + "', " +
                   std::to_string(m.meta.classes) + " classes, input " +
                   std::to_string(m.meta.input_size) + ")");
  }
  auto names = in.getClassNames();
  if (names.size() > kMaxClasses) return Corrupt("too many class names");
  for (auto n : names) m.meta.class_names.push_back(Str(n));
  auto tensors = in.getTensors();
  if (tensors.size() == 0 || tensors.size() > kMaxTensors) {
    return Corrupt("model has " + std::to_string(tensors.size()) + " tensors");
  }
  m.tensors.reserve(tensors.size());
  for (auto t : tensors) {
    NamedTensor n;
    n.name = Str(t.getName());
    auto shape = t.getShape();
    if (n.name.empty() || shape.size() > kMaxRank) {
      return Corrupt("malformed tensor '" + n.name + "'");
    }
    for (int64_t d : shape) {
      if (d < 0) return Corrupt("tensor '" + n.name + "' has a negative dimension");
      n.shape.push_back(d);
    }
    if (t.getKind() > static_cast<uint8_t>(TensorKind::kStat)) {
      return Corrupt("tensor '" + n.name + "' has unknown kind " + std::to_string(t.getKind()));
    }
    n.kind = static_cast<TensorKind>(t.getKind());
    auto values = t.getValues();
    if (NumElements(n.shape) != static_cast<int64_t>(values.size())) {
      return Corrupt("tensor '" + n.name + "' holds " + std::to_string(values.size()) +
                     " values for its shape of " + std::to_string(NumElements(n.shape)));
    }
    n.values.resize(values.size());
    for (unsigned k = 0; k < values.size(); ++k) n.values[k] = values[k];
    m.tensors.push_back(std::move(n));
  }
  return m;
}

Result<Checkpoint> Parse(const std::string& path, std::string_view message) {
  if (message.empty() || message.size() % sizeof(capnp::word) != 0) {
    return Corrupt(path + ": checkpoint body is not a whole number of 8-byte words");
  }
  const size_t num_words = message.size() / sizeof(capnp::word);
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(num_words);  // aligned copy
  std::memcpy(words.begin(), message.data(), message.size());
  capnp::ReaderOptions options;
  options.traversalLimitInWords = num_words * 2 + 64;
  try {
    capnp::FlatArrayMessageReader reader(words, options);
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
  root.setHeader(AsText(header.dump()));
  root.setStrategyState(kj::arrayPtr(reinterpret_cast<const kj::byte*>(c.strategy_state.data()),
                                     c.strategy_state.size()));
  WriteModel(c.global, root.initModel());
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  kj::ArrayPtr<const char> chars = words.asChars();
  std::string body = Magic();
  body.append(chars.begin(), chars.size());
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
  const size_t prefix = sizeof(kMagicPrefix) - 1;
  if (bytes.size() < kMagicSize || bytes.compare(0, prefix, kMagicPrefix) != 0 ||
      bytes[kMagicSize - 1] != '\n' || bytes[prefix] < '1' || bytes[prefix] > '9') {
    return Corrupt(path + ": not a fedsmear checkpoint");
  }
  // The format is known before the checksum: an old file is refused for what it is.
  const uint32_t format = static_cast<uint32_t>(bytes[prefix] - '0');
  if (format != ck::FORMAT_VERSION) return RefuseFormat(path, format);
  if (bytes.size() < kMagicSize + kDigest) return Corrupt(path + ": truncated checkpoint");
  std::string_view body(bytes.data(), bytes.size() - kDigest);
  Digest256 d = Sha256Of(body);
  if (std::memcmp(d.data(), bytes.data() + body.size(), kDigest) != 0) {
    return Corrupt(path + ": checksum mismatch (torn or corrupted checkpoint)");
  }
  return Parse(path, body.substr(kMagicSize));
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
