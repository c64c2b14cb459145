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

Status SaveLatentState(const std::string& state_dir, const ModelState& latent) {
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  if (ec) return IoError("cannot create state_dir " + state_dir + ": " + ec.message());
  return WriteFileAtomic(LatentStatePath(state_dir),
                         PackModel(latent, {BinaryCodec::kLatentF32, FloatCodec::kF32}),
                         0600);  // this hospital's weights: readable by the site's account only
}

Result<std::optional<ModelState>> LoadLatentState(const std::string& state_dir) {
  const std::string path = LatentStatePath(state_dir);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<ModelState>();
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  Result<ModelState> state = UnpackModel(bytes);
  if (!state.ok()) return state.status().WithContext(path);
  return std::optional<ModelState>(std::move(*state));
}

}  // namespace fedsmear
