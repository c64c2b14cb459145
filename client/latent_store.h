// A site's latent weights on disk, so that a restarted site daemon keeps them.
//
// Under a sign1 downlink the coordinator sends only the signs of the binary weights; the site
// rebuilds latent weights from its own previous ones (models/latent_reinit.h). Those live in
// Site's memory between rounds and, with state_dir set, in STATE_DIR/latent.model after every
// training (the packed format with latent f32 weights, checksummed, written atomically), so a
// site that crashes or is restarted resumes from its magnitudes instead of from +-epsilon.
// Loading a missing file is not an error (nullopt); a damaged one is Corrupt and the caller
// decides (the site logs it and starts fresh, keeping the file aside as latent.model.corrupt).
//
// Thread-safety: free functions, reentrant; concurrent saves to one folder race benignly (last
// rename wins). Ownership: values in, values out.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "models/model_state.h"

namespace fedsmear {

// STATE_DIR/latent.model.
std::string LatentStatePath(const std::string& state_dir);

// Creates `state_dir` if needed and writes `latent` there atomically.
Status SaveLatentState(const std::string& state_dir, const ModelState& latent);

// The saved latent weights, nullopt when none were saved; Corrupt for a damaged file.
Result<std::optional<ModelState>> LoadLatentState(const std::string& state_dir);

}  // namespace fedsmear
