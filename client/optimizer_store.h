// A site's optimizer state on disk, so that a restarted site daemon continues its run's Adam
// moments (train.optimizer_state keep / keep_scale) instead of starting them afresh.
//
// STATE_DIR/optimizer.state holds the moments of train/optimizer_state_value.h with the id of
// the run they belong to, in the Cap'n Proto format of common/wire/site_state.capnp
// (checksummed, little-endian, written atomically, readable by the site's account only). It is
// rewritten after every training that keeps state (about two float copies of the trainable
// parameters: 35 MiB for bdn28). Loading a missing file is not an error (nullopt); a damaged one
// is Corrupt and the caller decides (the site logs it, sets the file aside and starts fresh); a
// file of another format is FailedPrecondition.
//
// Thread-safety: free functions, reentrant; concurrent saves to one folder race benignly (last
// rename wins). Ownership: values in, values out.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "train/optimizer_state_value.h"

namespace fedsmear {

// STATE_DIR/optimizer.state.
std::string OptimizerStatePath(const std::string& state_dir);

struct SavedOptimizerState {
  OptimizerState state;
  std::string run_id;
};

// Creates `state_dir` if needed and writes `state` of run `run_id` there atomically.
Status SaveOptimizerState(const std::string& state_dir, const OptimizerState& state,
                          const std::string& run_id);

// The saved state, nullopt when none was saved.
Result<std::optional<SavedOptimizerState>> LoadOptimizerState(const std::string& state_dir);

}  // namespace fedsmear
