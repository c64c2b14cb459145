#include "tools/simulate.h"

#include <netinet/in.h>
#include <strings.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "client/site_plan.h"
#include "common/file_util.h"
#include "common/yaml_reader.h"
#include "common/net/keys.h"
#include "coordinator/run_plan.h"
#include "data/partition.h"
#include "data/partition_manifest.h"
#include "data/split.h"
#include "data/synth.h"
#include "tools/faults.h"
#include "tools/net_commands.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

// Whether the YAML file at `path` gives top-level `key` (false when it cannot be read: the
// strict loader reports that).
bool YamlNames(const std::string& path, const char* key) {
  Result<YAML::Node> doc = LoadYamlFile(path);
  return doc.ok() && doc->IsMap() && (*doc)[key].IsDefined();
}

Result<int> FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return IoError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  if (port <= 0) return IoError("no free loopback port");
  return port;
}

// Images per class folder/label of `data` that are not among `classes` (the model's), as
// "name count" pairs in name order; printed under the partition table.
Result<std::string> SkippedClasses(const std::string& data, const std::vector<std::string>& classes) {
  ASSIGN_OR_RETURN(Dataset all, OpenDataset(data, {}));
  std::vector<int64_t> counts = all.ClassCounts();
  std::string out;
  for (size_t k = 0; k < all.class_names.size(); ++k) {
    bool wanted = false;
    for (const std::string& c : classes) wanted |= ::strcasecmp(c.c_str(), all.class_names[k].c_str()) == 0;
    if (!wanted) out += (out.empty() ? "" : ", ") + all.class_names[k] + " " + std::to_string(counts[k]);
  }
  return out;
}

// Training pool and held-out set for the simulation, as folders or manifests. `classes` holds
// the model's classes when the config or --classes named them (images of other classes are
// skipped and counted), and receives the classes used. The held-out carve from --data uses
// sim.holdout_seed, not --seed: runs of different seeds are scored on the same images.
Status PrepareData(const SimOptions& o, const SimulationConfig& sim, const fs::path& data_dir,
                   std::string* pool, std::string* holdout, std::vector<std::string>* classes) {
  if (!o.synthetic.empty()) {
    SynthOptions s;
    s.task = o.synthetic;
    s.per_class = o.per_class_per_site ? o.per_class * o.sites : o.per_class;
    s.size = std::max(o.input_size, 32);
    s.seed = static_cast<uint64_t>(o.seed);
    *pool = (data_dir / "train").string();
    RETURN_IF_ERROR(WriteSynthDataset(s, *pool));
    s.per_class = std::max(10, o.per_class / 4);
    s.seed = static_cast<uint64_t>(o.seed) + 1000;
    *holdout = (data_dir / "holdout").string();
    RETURN_IF_ERROR(WriteSynthDataset(s, *holdout));
    if (!classes->empty() && *classes != SynthClassNames(o.synthetic)) {
      return InvalidArgument("--classes / model.class_names apply to --data; synthetic " +
                             o.synthetic + " smears have their own classes");
    }
    *classes = SynthClassNames(o.synthetic);
    return Status::Ok();
  }
  if (o.data.empty()) return InvalidArgument("give --synthetic rbc|wbc or --data DIR");
  if (!classes->empty()) {
    ASSIGN_OR_RETURN(std::string skipped, SkippedClasses(o.data, *classes));
    if (!skipped.empty()) std::printf("skipped, not among the model's classes: %s\n", skipped.c_str());
  }
  ASSIGN_OR_RETURN(Dataset all, OpenDataset(o.data, *classes));
  if (all.samples.empty()) return InvalidArgument(o.data + " holds no image of the model's classes");
  *classes = all.class_names;
  if (!o.holdout.empty()) {
    *pool = o.data;
    *holdout = o.holdout;
    return Status::Ok();
  }
  // Hold out 15% of the data for the coordinator's central evaluation: stratified, or by group
  // (whole smears) when the sites are partitioned by group, so no smear is on both sides.
  const bool by_group = o.partition == "group";
  ASSIGN_OR_RETURN(TrainValIndices split,
                   TrainValSplit(all, 0.15, static_cast<uint64_t>(sim.holdout_seed), by_group));
  std::vector<Sample> train, held;
  for (size_t i : split.train) train.push_back(all.samples[i]);
  for (size_t i : split.val) held.push_back(all.samples[i]);
  *pool = (data_dir / "pool.csv").string();
  *holdout = (data_dir / "holdout.csv").string();
  RETURN_IF_ERROR(WriteManifest(*pool, all.class_names, train));
  return WriteManifest(*holdout, all.class_names, held);
}

// The sites' data: replayed from simulation.partition_manifest, or carved (PrepareData) and
// dealt by --partition with the simulation's concentration. Either way RUN_DIR/data/partition.csv
// lists the held-out set and every site's images afterwards (the scenario, replayable); a
// replay, like a carve from --data, also writes pool.csv and holdout.csv.
Result<SitePartition> MakeSites(const SimOptions& o, const SimulationConfig& sim,
                                const fs::path& data_dir, std::string* holdout,
                                std::vector<std::string>* classes) {
  SitePartition part;
  PartitionManifest manifest;
  if (!sim.partition_manifest.empty()) {
    if (!o.synthetic.empty() || !o.holdout.empty()) {
      return InvalidArgument("simulation.partition_manifest replays the held-out set and the "
                             "sites: give neither --synthetic nor --holdout");
    }
    ASSIGN_OR_RETURN(manifest, ReadPartitionManifest(sim.partition_manifest, *classes));
    if (static_cast<int>(manifest.sites.size()) != o.sites) {
      return InvalidArgument(sim.partition_manifest + " holds " +
                             std::to_string(manifest.sites.size()) + " sites, --sites is " +
                             std::to_string(o.sites));
    }
    *classes = manifest.class_names;
    part.class_names = manifest.class_names;
    part.sites = manifest.sites;
    std::vector<Sample> pool;
    for (const auto& site : manifest.sites) pool.insert(pool.end(), site.begin(), site.end());
    *holdout = (data_dir / "holdout.csv").string();
    RETURN_IF_ERROR(WriteManifest((data_dir / "pool.csv").string(), *classes, pool));
    RETURN_IF_ERROR(WriteManifest(*holdout, *classes, manifest.holdout));
  } else {
    std::string pool;
    RETURN_IF_ERROR(PrepareData(o, sim, data_dir, &pool, holdout, classes));
    ASSIGN_OR_RETURN(PartitionScheme scheme, ParsePartitionScheme(o.partition));
    scheme.concentrate_class = sim.concentrate_class;
    scheme.concentrate_site = sim.concentrate_site;
    scheme.concentrate_share = sim.concentrate_share;
    ASSIGN_OR_RETURN(part, PartitionRoots({pool}, *classes, o.sites, scheme,
                                          static_cast<uint64_t>(o.seed)));
    manifest.class_names = part.class_names;
    manifest.sites = part.sites;
    if (!holdout->empty()) {
      ASSIGN_OR_RETURN(Dataset held, OpenDataset(*holdout, part.class_names));
      manifest.holdout = std::move(held.samples);
    }
  }
  RETURN_IF_ERROR(WritePartitionManifest((data_dir / "partition.csv").string(), manifest));
  return part;
}

}  // namespace

int MachineCores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

Result<SimPlan> PrepareSimulation(const SimOptions& o) {
  if (o.sites < 1) return InvalidArgument("--sites must be at least 1");
  const fs::path run = fs::absolute(o.out);
  std::error_code ec;
  for (const char* sub : {"data", "keys", "config", "logs"}) fs::create_directories(run / sub, ec);
  if (ec) return IoError("cannot create " + run.string() + ": " + ec.message());

  CoordinatorConfig c;
  if (!o.base_config.empty()) {
    ASSIGN_OR_RETURN(c, LoadCoordinatorConfig(o.base_config));
  }
  std::string holdout;
  // The config (or --classes) decides the classes; the data's folders only when neither does.
  std::vector<std::string> classes = !o.classes.empty() ? o.classes : c.model.class_names;
  if (classes.empty() && !o.base_config.empty() && o.data.size() > 0) {
    ASSIGN_OR_RETURN(Dataset probe, OpenDataset(o.data, {}));
    if (static_cast<int>(probe.class_names.size()) != c.model.classes) {
      return InvalidArgument("model.classes is " + std::to_string(c.model.classes) + " but " +
                             o.data + " has " + std::to_string(probe.class_names.size()) +
                             " class folders: name the classes in model.class_names or --classes");
    }
  }
  // The scenario's settings (simulation.*) may come from --set: read them before the data.
  for (const auto& [key, value] : o.settings) RETURN_IF_ERROR(ApplySetting(&c, key, value));
  ASSIGN_OR_RETURN(SitePartition part, MakeSites(o, c.simulation, run / "data", &holdout, &classes));
  RETURN_IF_ERROR(WritePartition(part, (run / "data" / "sites").string()));
  std::printf("%s\n", FormatClassTable(part).c_str());

  int port = o.port;
  if (port == 0) {
    ASSIGN_OR_RETURN(port, FreeLoopbackPort());
  }
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(port);
  const fs::path keys = run / "keys";
  std::string allowed;
  if (!o.insecure) {
    RETURN_IF_ERROR(WriteKeyPairFiles(GenerateKeyPair(), keys.string(), "coordinator", true));
  }
  std::set<int> cut_sites;
  if (!o.faults.empty()) {
    ASSIGN_OR_RETURN(std::vector<FaultEvent> events, LoadFaultSchedule(o.faults, o.sites, o.rounds));
    cut_sites = SitesWithCuts(events);
    ASSIGN_OR_RETURN(std::string text, ReadFile(o.faults));
    RETURN_IF_ERROR(WriteFileAtomic((run / "faults.yaml").string(), text));
  }
  const int cores = MachineCores();
  // One budget for the machine: at most `slots` sites work at once, each with site_threads.
  int site_threads = o.threads_per_site;
  int slots = 0;
  if (site_threads > 0) {
    slots = std::max(1, cores / site_threads);
  } else {
    slots = std::max(1, std::min(o.sites, cores));
    site_threads = std::max(1, cores / slots);
  }

  SimPlan plan;
  plan.run_dir = run.string();
  plan.coordinator_threads = cores;
  plan.work_slots = (run / "work-slots").string() + ":" + std::to_string(slots);
  for (int k = 1; k <= o.sites; ++k) {
    ClientConfig s;
    s.site_id = "site-" + std::to_string(k);
    s.coordinator = endpoint;
    if (cut_sites.count(k)) {
      // This site reaches the coordinator through a relay the simulation can cut.
      ASSIGN_OR_RETURN(int relay_port, FreeLoopbackPort());
      s.coordinator = "tcp://127.0.0.1:" + std::to_string(relay_port);
    }
    s.insecure = o.insecure;
    if (!o.insecure) {
      KeyPair kp = GenerateKeyPair();
      RETURN_IF_ERROR(WriteKeyPairFiles(kp, keys.string(), s.site_id, true));
      // The Ed25519 identity for secure aggregation rides in the allowlist's third column.
      ASSIGN_OR_RETURN(SigningKeyHex sign, GenerateSigningKey());
      RETURN_IF_ERROR(WriteSigningKeyFiles(sign, keys.string(), s.site_id, true));
      allowed += s.site_id + " " + kp.public_key + " " + sign.public_key + "\n";
      s.secret_key_file = (keys / (s.site_id + ".key")).string();
      s.signing_key_file = (keys / (s.site_id + ".sign.key")).string();
      s.coordinator_public_key_file = (keys / "coordinator.pub").string();
      // The allowlist (written below) doubles as the consortium roster of signing keys.
      s.policy.secagg_roster_file = (keys / "allowed_sites").string();
    }
    // The simulated coordinator's secure_aggregation decides the mode; its sites accept both.
    s.policy.require_secure_aggregation = false;
    s.data.manifest = (run / "data" / "sites" / ("site-" + std::to_string(k) + ".csv")).string();
    s.data.seed = o.seed + k;
    s.threads = site_threads;
    s.eval_engine = o.eval_engine;
    s.heartbeat_s = 2;
    s.exit_after_run = true;  // the simulation ends when its run does
    s.preprocess = c.preprocess;
    s.state_dir = (run / "state" / s.site_id).string();
    std::string path = (run / "config" / (s.site_id + ".yaml")).string();
    RETURN_IF_ERROR(WriteFileAtomic(path, ToYaml(s)));
    plan.site_configs.push_back(path);
  }
  if (!o.insecure) {
    RETURN_IF_ERROR(WriteFileAtomic((keys / "allowed_sites").string(), allowed));
    c.secret_key_file = (keys / "coordinator.key").string();
    c.allowed_sites_file = (keys / "allowed_sites").string();
  }
  c.bind = endpoint;
  c.insecure = o.insecure;
  c.run_dir = run.string();
  c.model.arch = o.arch;
  c.model.input_size = o.input_size;
  c.model.classes = static_cast<int>(classes.size());
  c.model.class_names = classes;
  c.rounds = o.rounds;
  c.min_sites = std::min(c.min_sites, o.sites);
  c.start_sites = o.sites;
  c.heartbeat_s = 2;
  c.seed = o.seed;
  c.holdout = {{"holdout", holdout}};
  c.eval_engine = o.eval_engine;
  for (const auto& [key, value] : o.settings) RETURN_IF_ERROR(ApplySetting(&c, key, value));
  // SecAgg+ is the default whenever a round can have three sites; a simulation that cannot run
  // it (fewer sites, --insecure) falls back to plain rounds only when nobody asked for SecAgg+.
  const bool asked = std::any_of(o.settings.begin(), o.settings.end(),
                                 [](const auto& s) { return s.first == "secure_aggregation"; }) ||
                     (!o.base_config.empty() && YamlNames(o.base_config, "secure_aggregation"));
  const bool secure_possible = o.sites >= 3 && !o.insecure;
  if (c.secure_aggregation != SecureAggregation::kOff && !secure_possible) {
    if (asked) {
      return InvalidArgument(o.insecure
                                 ? "secure aggregation needs the CurveZMQ allowlist with the "
                                   "sites' signing keys: drop --insecure"
                                 : "secure aggregation needs at least 3 sites (--sites 3); "
                                   "--secure-aggregation off runs plain rounds");
    }
    std::printf("secure_aggregation off: %s (SecAgg+, the default, is used from 3 sites)\n",
                o.insecure ? "--insecure has no signing keys" : "fewer than 3 sites");
    c.secure_aggregation = SecureAggregation::kOff;
  }
  std::printf("strategy %s, codec_down %s, codec_up %s, secure_aggregation %s, %d rounds\n",
              c.strategy.c_str(), c.codec_down.c_str(), c.codec_up.c_str(),
              settings::NameOf(c.secure_aggregation), c.rounds);
  plan.coordinator_config = (run / "coordinator.yaml").string();
  RETURN_IF_ERROR(WriteFileAtomic(plan.coordinator_config, ToYaml(c)));
  // Read back through the strict loader: what we wrote must be what the daemons will accept.
  ASSIGN_OR_RETURN(CoordinatorConfig written, LoadCoordinatorConfig(plan.coordinator_config));
  // Strategy, strategy_params and codecs too, before any process starts (MakeRunPlan below
  // checks them).
  if (o.unapproved_sites < 0 || o.unapproved_sites > o.sites) {
    return InvalidArgument("--unapproved-sites must be in [0, --sites]");
  }
  // A simulation approves its own training plan, so that it runs unattended; each site's
  // approvals and audit log sit in RUN_DIR/state/<site>/ like a hospital's.
  ASSIGN_OR_RETURN(const TrainingPlan training_plan, MakeRunPlan(written));
  for (int k = 1; k <= o.sites - o.unapproved_sites; ++k) {
    const std::string approvals =
        ApprovedPlansPath((run / "state" / ("site-" + std::to_string(k))).string());
    ASSIGN_OR_RETURN(std::set<std::string> approved, ReadApprovedPlans(approvals));
    if (approved.count(training_plan.hash) == 0) {
      RETURN_IF_ERROR(
          AppendApprovedPlan(approvals, training_plan.hash, "approved by fedsmear simulate"));
    }
  }
  plan.rounds = c.rounds;
  return plan;
}

}  // namespace fedsmear
