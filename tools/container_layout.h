// The container layout of a prepared simulation: what scripts/docker-sim mounts into the
// coordinator and site containers of docker/compose.yaml.
//
// From the process layout PrepareSimulation wrote in RUN_DIR, WriteContainerLayout writes
//   RUN_DIR/docker/coordinator/{coordinator.yaml, keys/, holdout/<class>/...}   and run/ (empty)
// The coordinator's keys/ holds its secret key, its public key (what the sites pin; the Swarm
// stack distributes it from there) and the allowlist.
//   RUN_DIR/docker/site-<k>/{site.yaml, keys/, data/<class>/..., state/}
// Each site folder holds only that site's keys (its CurveZMQ and Ed25519 secrets and the
// coordinator's public key) and only its own partition, as an image folder (hard links or
// copies); configs use the in-container paths /etc/fedsmear, /data, /holdout, /run-dir and
// /var/lib/fedsmear/state, and sites reach the coordinator as tcp://coordinator:7878.
// Thread-safety: reentrant. Ownership: files only.
#pragma once

#include "common/status.h"
#include "tools/simulate.h"

namespace fedsmear {

inline constexpr int kContainerPort = 7878;

Status WriteContainerLayout(const SimPlan& plan);

}  // namespace fedsmear
