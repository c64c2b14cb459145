#include "client/optimizer_store.h"

#include <filesystem>
#include <system_error>

#include "common/file_util.h"
#include "common/wire/site_state.capnp.h"
#include "models/capnp_file.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;
namespace ss = wire::site_state;

constexpr char kMagicName[] = "FSOPTS";


Status RefuseFormat(const std::string& path, uint32_t format) {
  return FailedPrecondition(path + ": optimizer state of format " + std::to_string(format) +
                            "; this build reads " + std::to_string(ss::FORMAT_VERSION));
}

// The moments as named tensors of one float kind (the model's kinds do not matter here).
Result<ModelState> Moments(capnp::List<wire::checkpoint::Tensor>::Reader in) {
  ModelState m;
  ASSIGN_OR_RETURN(m.tensors, ReadTensors(in));
  return m;
}

Result<SavedOptimizerState> Parse(const std::string& path, kj::Array<capnp::word> words) {
  try {
    capnp::FlatArrayMessageReader reader(words, ReaderOptionsFor(words));
    if (reader.getEnd() != words.end()) return Corrupt(path + ": trailing bytes");
    auto root = reader.getRoot<ss::OptimizerState>();
    if (root.getFormatVersion() != ss::FORMAT_VERSION) {
      return RefuseFormat(path, root.getFormatVersion());
    }
    SavedOptimizerState out;
    out.run_id = std::string(root.getRunId().cStr(), root.getRunId().size());
    out.state.step = root.getStep();
    if (out.state.step < 0) return Corrupt(path + ": negative step count");
    Result<ModelState> first = Moments(root.getFirst());
    if (!first.ok()) return Corrupt(path + ": " + first.status().message());
    Result<ModelState> second = Moments(root.getSecond());
    if (!second.ok()) return Corrupt(path + ": " + second.status().message());
    out.state.first = std::move(*first);
    out.state.second = std::move(*second);
    return out;
  } catch (const kj::Exception& e) {
    return Corrupt(path + ": malformed optimizer state: " + e.getDescription().cStr());
  }
}

}  // namespace

std::string OptimizerStatePath(const std::string& state_dir) {
  return (fs::path(state_dir) / "optimizer.state").string();
}

Status SaveOptimizerState(const std::string& state_dir, const OptimizerState& state,
                          const std::string& run_id) {
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  if (ec) return IoError("cannot create state_dir " + state_dir + ": " + ec.message());
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<ss::OptimizerState>();
  root.setFormatVersion(ss::FORMAT_VERSION);
  root.setRunId(CapnpText(run_id));
  root.setStep(state.step);
  WriteTensors(state.first.tensors,
               root.initFirst(static_cast<unsigned>(state.first.tensors.size())));
  WriteTensors(state.second.tensors,
               root.initSecond(static_cast<unsigned>(state.second.tensors.size())));
  return WriteFileAtomic(OptimizerStatePath(state_dir),
                         FrameCapnpFile(kMagicName, ss::FORMAT_VERSION, message), 0600);
}

Result<std::optional<SavedOptimizerState>> LoadOptimizerState(const std::string& state_dir) {
  const std::string path = OptimizerStatePath(state_dir);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<SavedOptimizerState>();
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  ASSIGN_OR_RETURN(uint32_t format, FileFormat(path, bytes, kMagicName));
  if (format != ss::FORMAT_VERSION) {
    return RefuseFormat(path, format);
  }
  ASSIGN_OR_RETURN(kj::Array<capnp::word> words, VerifiedMessage(path, bytes));
  ASSIGN_OR_RETURN(SavedOptimizerState saved, Parse(path, std::move(words)));
  return std::optional<SavedOptimizerState>(std::move(saved));
}

}  // namespace fedsmear
