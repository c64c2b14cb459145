// A site's latent weights on disk, so that a restarted site daemon keeps them.
//
// Under a sign1 downlink the coordinator sends only the signs of the binary weights; the site
// rebuilds latent weights from its own previous ones (models/latent_reinit.h). Those live in
// Site's memory between rounds and, with state_dir set, in STATE_DIR/latent.model after every
// training (the packed format with latent f32 weights, checksummed, written atomically), so a
// site that crashes or is restarted resumes from its magnitudes instead of from +-epsilon.
// The id of the run they belong to is kept beside them in STATE_DIR/latent.run (written after
// the weights, so a crash between the two leaves an id the weights do not match, and the site
// starts the run afresh rather than with another run's weights).
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

struct SavedLatent {
  ModelState latent;
  std::string run_id;  // "" when saved without one (an older fedsmear)
};

// Creates `state_dir` if needed and writes `latent`, then `run_id`, there atomically.
Status SaveLatentState(const std::string& state_dir, const ModelState& latent,
                       const std::string& run_id);

// The saved latent weights and their run, nullopt when none were saved; Corrupt for a damaged
// weights file.
Result<std::optional<SavedLatent>> LoadLatentState(const std::string& state_dir);

}  // namespace fedsmear
