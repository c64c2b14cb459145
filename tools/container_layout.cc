#include "tools/container_layout.h"

#include <filesystem>

#include "client/site_plan.h"
#include "common/config.h"
#include "common/file_util.h"
#include "coordinator/run_plan.h"
#include "data/materialize.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

const char kKeys[] = "/etc/fedsmear/keys/";

// Copies `names` from `from` into `to` (created), keeping the files' permissions.
Status CopyKeys(const fs::path& from, const fs::path& to, const std::vector<std::string>& names) {
  std::error_code ec;
  fs::create_directories(to, ec);
  for (const std::string& n : names) {
    fs::copy_file(from / n, to / n, fs::copy_options::overwrite_existing, ec);
    if (ec) return IoError("cannot copy key " + (from / n).string() + ": " + ec.message());
  }
  return Status::Ok();
}

Status Materialize(const std::string& source, const std::vector<std::string>& classes,
                   const fs::path& out) {
  ASSIGN_OR_RETURN(Dataset ds, OpenDataset(source, classes));
  return MaterializeSamples(ds.samples, classes, out.string()).status();
}

}  // namespace

Status WriteContainerLayout(const SimPlan& plan) {
  const fs::path run(plan.run_dir);
  const fs::path out = run / "docker";
  const fs::path keys = run / "keys";
  std::error_code ec;
  fs::remove_all(out, ec);
  fs::create_directories(out / "run", ec);
  if (ec) return IoError("cannot create " + out.string() + ": " + ec.message());

  ASSIGN_OR_RETURN(CoordinatorConfig c, LoadCoordinatorConfig(plan.coordinator_config));
  const std::vector<std::string> classes = c.model.class_names;
  const fs::path cdir = out / "coordinator";
  for (size_t i = 0; i < c.holdout.size(); ++i) {
    const std::string name = c.holdout.size() == 1 ? "holdout" : "holdout-" + std::to_string(i + 1);
    RETURN_IF_ERROR(Materialize(c.holdout[i].path, classes, cdir / name));
    c.holdout[i].path = "/" + name;
  }
  c.bind = "tcp://0.0.0.0:" + std::to_string(kContainerPort);
  // The bind is all interfaces of the coordinator container, reachable only on the run's private
  // compose network: an insecure simulation there is allowed explicitly (docs/security.md).
  c.force_insecure = c.insecure;
  c.run_dir = "/run-dir";
  if (!c.insecure) {
    RETURN_IF_ERROR(
        CopyKeys(keys, cdir / "keys", {"coordinator.key", "coordinator.pub", "allowed_sites"}));
    c.secret_key_file = std::string(kKeys) + "coordinator.key";
    c.allowed_sites_file = std::string(kKeys) + "allowed_sites";
  }
  RETURN_IF_ERROR(WriteFileAtomic((cdir / "coordinator.yaml").string(), ToYaml(c)));
  ASSIGN_OR_RETURN(const TrainingPlan training_plan, MakeRunPlan(c));

  for (const std::string& path : plan.site_configs) {
    ASSIGN_OR_RETURN(ClientConfig s, LoadClientConfig(path));
    const fs::path sdir = out / s.site_id;
    RETURN_IF_ERROR(Materialize(s.data.manifest.empty() ? s.data.root : s.data.manifest, classes,
                                sdir / "data"));
    s.data.root = "/data";
    s.data.manifest.clear();
    s.coordinator = "tcp://coordinator:" + std::to_string(kContainerPort);
    s.state_dir = "/var/lib/fedsmear/state";
    fs::create_directories(sdir / "state", ec);
    // The demo consortium's sites approve its plan up front (docs/deploy.md, "Training plans").
    RETURN_IF_ERROR(AppendApprovedPlan(ApprovedPlansPath((sdir / "state").string()),
                                       training_plan.hash,
                                       "approved by the container layout"));
    if (!s.insecure) {
      const std::string id = s.site_id;
      RETURN_IF_ERROR(CopyKeys(keys, sdir / "keys",
                               {id + ".key", id + ".pub", id + ".sign.key", id + ".sign.pub",
                                "coordinator.pub", "allowed_sites"}));
      s.secret_key_file = kKeys + id + ".key";
      // The allowlist's three columns are the consortium roster (secure aggregation peers).
      if (!s.policy.secagg_roster_file.empty()) {
        s.policy.secagg_roster_file = std::string(kKeys) + "allowed_sites";
      }
      s.signing_key_file = kKeys + id + ".sign.key";
      s.coordinator_public_key_file = std::string(kKeys) + "coordinator.pub";
    }
    RETURN_IF_ERROR(WriteFileAtomic((sdir / "site.yaml").string(), ToYaml(s)));
  }
  return Status::Ok();
}

}  // namespace fedsmear
