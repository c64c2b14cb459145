#include "client/latent_store.h"

#include <filesystem>
#include <system_error>

#include "common/file_util.h"
#include "models/packed_model.h"

namespace fedsmear {

namespace fs = std::filesystem;

std::string LatentStatePath(const std::string& state_dir) {
  return (fs::path(state_dir) / "latent.model").string();
}

namespace {

std::string RunIdPath(const std::string& state_dir) {
  return (fs::path(state_dir) / "latent.run").string();
}

}  // namespace

Status SaveLatentState(const std::string& state_dir, const ModelState& latent,
                       const std::string& run_id) {
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  if (ec) return IoError("cannot create state_dir " + state_dir + ": " + ec.message());
  RETURN_IF_ERROR(WriteFileAtomic(LatentStatePath(state_dir),
                                  PackModel(latent, LosslessPackOptions()),
                                  0600));  // this hospital's weights: the site's account only
  return WriteFileAtomic(RunIdPath(state_dir), run_id + "\n", 0600);
}

Result<std::optional<SavedLatent>> LoadLatentState(const std::string& state_dir) {
  const std::string path = LatentStatePath(state_dir);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<SavedLatent>();
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  Result<ModelState> state = UnpackModel(bytes);
  if (!state.ok()) return state.status().WithContext(path);
  SavedLatent saved{std::move(*state), ""};
  if (fs::exists(RunIdPath(state_dir), ec)) {
    ASSIGN_OR_RETURN(std::string id, ReadFile(RunIdPath(state_dir)));
    while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
    saved.run_id = std::move(id);
  }
  return std::optional<SavedLatent>(std::move(saved));
}

}  // namespace fedsmear
