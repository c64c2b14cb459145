// Coordinator checkpoints: everything needed to continue a run after a crash.
//
// One file per completed round, RUN_DIR/checkpoints/round-NNNNNN.ckpt, written atomically
// (temp file, fsync, rename) in the Cap'n Proto format of common/wire/checkpoint.capnp
// (little-endian, versioned): a JSON header (round, RNG, schedule state, bookkeeping), the
// strategy's state and the global model (latent weights in fp32), followed by a SHA-256 of all
// of it. Loading validates sizes and counts before use. LoadLatestCheckpoint returns the newest
// file whose checksum holds and logs the ones it skipped, so a torn or corrupted latest
// checkpoint falls back to the previous one; a checkpoint of another format (an older or newer
// fedsmear) stops it with kFailedPrecondition and a message saying what to do.
// Only the last `keep` files are kept. Reentrant functions; files are the only shared state.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/status.h"
#include "models/model_state.h"

namespace fedsmear {

struct Checkpoint {
  int round = 0;                 // last completed round
  nlohmann::json header;         // RNG, schedule and run bookkeeping
  std::string strategy_state;    // Strategy::SaveState()
  ModelState global;
};

Status SaveCheckpoint(const std::string& run_dir, const Checkpoint& checkpoint, int keep);
// kNotFound when no valid checkpoint exists.
Result<Checkpoint> LoadLatestCheckpoint(const std::string& run_dir);
// Parses one file (kCorrupt on checksum or format errors, kFailedPrecondition for a file of
// another format version).
Result<Checkpoint> LoadCheckpointFile(const std::string& path);

}  // namespace fedsmear
