// Typed configuration for the coordinator, the hospital daemon and the training task.
//
// Every field has a documented default; configs/coordinator.yaml and configs/client.yaml show
// each key. Loaders are strict: unknown keys and wrong types are errors naming the key and line.
// Structs are plain values (copy freely; not synchronised).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/train_config.h"

namespace fedsmear {

class YamlReader;

// Which network, for how many classes, at what input size.
struct ModelSpec {
  std::string arch = "bdn28";            // bdn28 | bdn37 | bdn45 | densenet28.. | bdn-tiny
  int classes = 8;                       // must equal class_names.size() when names are given
  int input_size = 64;                   // square input side in pixels
  std::vector<std::string> class_names;  // order defines label ids; empty: taken from data
  std::string initial_model;             // packed or float model to start from ("" = random)
};

// Image-to-tensor preprocessing, identical for training and evaluation.
struct PreprocessConfig {
  std::string resize = "pad";                 // pad (keep aspect) | stretch
  double center_crop = 1.0;                   // fraction of the shorter side kept (1 = none)
  std::vector<double> mean = {0.5, 0.5, 0.5};  // per channel, after scaling to [0,1]
  std::vector<double> std = {0.25, 0.25, 0.25};
};

// Round-level learning-rate schedule applied by the coordinator.
struct LrScheduleConfig {
  std::string kind = "cosine";  // constant | step | cosine | plateau
  double gamma = 0.5;           // step/plateau: factor
  int step_rounds = 5;          // step: every this many rounds
  int patience = 2;             // plateau: rounds without macro-F1 gain
  double min_lr = 1e-5;
};

struct HoldoutSet {
  std::string name;  // label in metrics and reports
  std::string path;  // image folder root/<class>/<files>
};


// An optional HTTP endpoint (coordinator status page and /metrics, a site's /metrics).
struct HttpEndpointConfig {
  bool enabled = false;      // off unless asked for
  std::string bind;          // host:port; the default (set per daemon) is loopback
  std::string token_file;    // optional: a file holding a bearer token every request must carry
};

inline constexpr int kDefaultBnRecalibrationImages = 256;

struct CoordinatorConfig {
  std::string bind = "tcp://127.0.0.1:7878";  // ZeroMQ endpoint the ROUTER binds
  bool insecure = false;                      // plain TCP: local debugging only
  std::string secret_key_file;                // CurveZMQ key of the coordinator
  std::string allowed_sites_file;             // lines "site-id public-key"
  std::string run_dir = "runs/latest";
  ModelSpec model;
  PreprocessConfig preprocess;
  TrainConfig train = FederatedTrainDefaults();  // local_steps capped (train_config.h)
  LrScheduleConfig lr_schedule;
  // The strategy registry (coordinator/strategy_registry.h) checks the name and its
  // strategy_params; `fedsmear-coordinator --help` lists both.
  std::string strategy = kDefaultStrategy;  // fedvote | fedavg | fedprox | fedadam | fedavgm
  std::map<std::string, double> strategy_params;  // the strategy's own typed parameters
  double server_lr = 0.01;          // fedadam
  double vote_momentum = 0.0;       // fedvote: server momentum on vote shares (coordinator/vote.h)
  int rounds = 30;
  int min_sites = 2;
  int start_sites = 0;              // wait for this many sites before round 1 (0 = min_sites)
  double fraction = 1.0;            // share of connected sites selected per round
  double round_deadline_s = 600;    // a round closes with what arrived by then
  int max_round_retries = 3;        // below min_sites: retry this often, then stop the run
  double wait_for_sites_s = 120;    // before round 1: wait this long for min_sites
  // codec_down: f32 | f32+f16 | f32+q8 | sign1 | sign1+f16 | sign1+q8 (sign1: binary weights
  // as packed signs; +f16 / +q8: float tensors in half precision / 8 bits, nearest rounding).
  std::string codec_down = kDefaultCodecDown;
  // codec_up: <binary>[+<floats>], binary f32 | sign1 | sign1_scaled | q8_delta, floats
  // f32 | f16 | q8 (see models/codec.h).
  std::string codec_up = kDefaultCodecUp;
  // sign1 downlink: latent magnitude of a flipped sign at a site.
  double latent_epsilon = kDefaultLatentEpsilon;
  // sign1 downlink: latent magnitude of a binary weight a site holds no state for (its first
  // round): glorot (the initialiser's mean |w| for that layer) | epsilon (latent_epsilon).
  std::string latent_start = kDefaultLatentStart;
  // sign1 downlink: latent magnitude a site gives a weight whose sign the federation flipped:
  // epsilon (latent_epsilon) | glorot (the initialiser's mean |w| for that layer).
  std::string latent_flip = kDefaultLatentFlip;
  std::vector<HoldoutSet> holdout;
  bool federated_evaluation = true;  // sites also score each new global model on their val split
  // Batch-norm recalibration after each round: sites recompute the new global model's BN
  // statistics over up to this many training images and the coordinator pools them
  // (train/bn_calibrate.h); 0 = off. Off under secagg+ (the statistics would travel in the clear).
  int bn_recalibration_images = kDefaultBnRecalibrationImages;
  double max_message_mb = 256;      // larger messages are refused unread
  double heartbeat_s = 5;           // sites silent for 3x this are considered gone
  int early_stop_patience = 0;      // rounds without central macro-F1 gain (0 = off)
  int keep_checkpoints = 3;
  int aggregation_threads = 2;      // threads that add each update into the running sums
  int seed = 1;
  std::string log_level = "info";
  // Secure aggregation (coordinator/secure_round.h): the coordinator learns only the sum of the
  // selected sites' updates. secagg+ runs under every strategy (it computes the sum the
  // strategy finishes from; codec_up is not used) and needs Ed25519 keys in the allowlist's
  // third column.
  std::string secure_aggregation = "off";  // off | secagg+
  int secagg_threshold = 0;                // t; 0 = RecommendedThreshold(k)
  int secagg_neighbours = 0;               // k; 0 = DefaultNeighbourCount(n, t)
  double secagg_clip = 4.0;                // clip of each scaled update-delta value
  double secagg_stat_clip = 4096;          // the same for BN running statistics (much larger)
  double secagg_stage_deadline_s = 60;     // key and share stages, and unmasking
  // Hardening against misbehaving sites and unsafe setups (docs/security.md).
  // FedAvg and secure rounds weight a site by its hello's training-set size, capped here.
  int64_t max_site_samples = 1000000;
  // insecure: true is refused with secagg+ or a non-loopback bind unless this is set (tests).
  bool force_insecure = false;
  // Governance (docs/deploy.md): the coordinator's audit log of what it received and decided.
  std::string audit_log;     // "" = RUN_DIR/audit.jsonl
  double audit_max_mb = 16;  // rotates to AUDIT_LOG.N at this size
  bool audit_sync = true;    // fdatasync every entry; false only in simulations
  // Live status page, JSON API and Prometheus /metrics (coordinator/status/status_service.h).
  HttpEndpointConfig status{false, "127.0.0.1:9464", ""};
};

struct DataConfig {
  std::string root;                // image folder root/<class>/<files>
  std::string manifest;            // or a CSV path,label[,group]
  double val_fraction = 0.1;       // held back for local validation
  std::string split = "stratified";  // stratified | group
  int max_image_side = 8192;       // larger images are skipped as absurd
  int loader_threads = 1;          // decoding/augmentation workers
  bool cache_images = true;        // keep decoded, resized images in memory after epoch 1
  int seed = 1;
};

// What a site accepts; refused tasks are answered with the reason.
struct SitePolicy {
  // Train and evaluate only under a training plan this site approved (`fedsmear-client plan
  // approve`, or approved_plans); tasks outside the approved plan are refused either way.
  bool require_plan_approval = true;
  int min_samples_per_class = 0;   // refuse to train below this (privacy: tiny classes)
  int max_local_epochs = 20;
  bool share_class_counts = true;  // send per-class counts in the hello

  // --- Secure aggregation policy (docs/security.md): what this site demands of the coordinator.
  bool require_secure_aggregation = false;  // refuse any training task that is not SecAgg+
  // Consortium roster: lines "site-id ed25519-public-key-hex" (or the allowlist's three columns).
  // When set, every peer of a SecAgg+ round must be on it with that key. Required by
  // require_secure_aggregation.
  std::string secagg_roster_file;
  int min_secagg_threshold = 0;   // refuse setups with a lower t (0: only t > (k+1)/2)
  int min_secagg_neighbours = 0;  // refuse setups with fewer neighbours k (or n-1 if smaller)
  int max_secagg_sites = 1000;    // refuse setups listing more sites
  int max_input_size = 1024;      // refuse tasks whose model input side is larger
  double max_model_mb = 1024;     // refuse models whose unpacked float32 values exceed this
};

struct ClientConfig {
  std::string site_id;
  std::string coordinator = "tcp://127.0.0.1:7878";
  bool insecure = false;
  std::string coordinator_public_key_file;
  std::string secret_key_file;     // the site's CurveZMQ secret key
  std::string signing_key_file;    // the site's Ed25519 key (NAME.sign.key) for secure aggregation
  DataConfig data;
  PreprocessConfig preprocess;
  SitePolicy policy;
  std::string policy_file;         // optional separate YAML with the policy keys (kept by the
                                   // hospital's privacy officer); overrides `policy`
  int threads = 2;                 // torch intra-op threads for local training
  std::string state_dir;           // latent weights saved here after each sign1 round and
                                   // reloaded on restart (client/latent_store.h); "" = memory only
  double heartbeat_s = 5;
  std::string log_level = "info";
  // Governance (docs/deploy.md): plan approval and the site's audit log.
  std::string approved_plans;  // optional file of approved plan hashes, one per line (e.g. kept
                               // by configuration management); STATE_DIR/approved_plans too
  std::string audit_log;       // "" = STATE_DIR/audit.jsonl
  double audit_max_mb = 16;    // the audit log rotates to AUDIT_LOG.N at this size
  bool audit_sync = true;      // fdatasync every entry; false only in simulations
  // The site's own Prometheus /metrics for the hospital's monitoring (client/site_metrics.h).
  HttpEndpointConfig metrics{false, "127.0.0.1:9465", ""};
};

Result<CoordinatorConfig> LoadCoordinatorConfig(const std::string& path);
Result<ClientConfig> LoadClientConfig(const std::string& path);

// Section readers, shared by both loaders and by `fedsmear simulate`. Each reads one mapping,
// validates ranges and reports unknown keys.
Status ReadModelSpec(YamlReader r, ModelSpec* out);
Status ReadTrainConfig(YamlReader r, TrainConfig* out);
Status ReadPreprocessConfig(YamlReader r, PreprocessConfig* out);

}  // namespace fedsmear

namespace fedsmear {

// YAML text that the loaders above read back to an equal struct (used by `fedsmear simulate`
// and the Docker tooling to write configs).
std::string ToYaml(const CoordinatorConfig& config);
std::string ToYaml(const ClientConfig& config);

}  // namespace fedsmear
