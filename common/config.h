// Typed configuration for the coordinator, the hospital daemon and the training task.
//
// Every field has a documented default; configs/coordinator.yaml and configs/client.yaml show
// each key. Loaders are strict: unknown keys and wrong types are errors naming the key and line.
// Structs are plain values (copy freely; not synchronised).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/settings/enum_names.h"
#include "common/settings/setting.h"
#include "common/simulation_config.h"
#include "common/status.h"
#include "common/train_config.h"

namespace fedsmear {

class YamlReader;

enum class SecureAggregation : uint8_t { kOff, kSecAggPlus };
enum class LrScheduleKind : uint8_t { kConstant, kStep, kCosine, kPlateau };
enum class ResizeMode : uint8_t { kPad, kStretch };
enum class SplitMode : uint8_t { kStratified, kGroup };
enum class LogLevel : uint8_t { kTrace, kDebug, kInfo, kWarn, kError, kOff };
// Which engine scores a model: auto (the 1-bit engine for binarized models, LibTorch for float
// ones), binary (the 1-bit engine; a float model is an error) or torch (LibTorch always).
enum class EvalEngine : uint8_t { kAuto, kBinary, kTorch };

}  // namespace fedsmear

namespace fedsmear::settings {
template <>
struct EnumNames<SecureAggregation> {
  static constexpr std::pair<SecureAggregation, const char*> kAll[] = {
      {SecureAggregation::kOff, "off"}, {SecureAggregation::kSecAggPlus, "secagg+"}};
};
template <>
struct EnumNames<LrScheduleKind> {
  static constexpr std::pair<LrScheduleKind, const char*> kAll[] = {
      {LrScheduleKind::kConstant, "constant"},
      {LrScheduleKind::kStep, "step"},
      {LrScheduleKind::kCosine, "cosine"},
      {LrScheduleKind::kPlateau, "plateau"}};
};
template <>
struct EnumNames<ResizeMode> {
  static constexpr std::pair<ResizeMode, const char*> kAll[] = {{ResizeMode::kPad, "pad"},
                                                                {ResizeMode::kStretch, "stretch"}};
};
template <>
struct EnumNames<SplitMode> {
  static constexpr std::pair<SplitMode, const char*> kAll[] = {
      {SplitMode::kStratified, "stratified"}, {SplitMode::kGroup, "group"}};
};
template <>
struct EnumNames<EvalEngine> {
  static constexpr std::pair<EvalEngine, const char*> kAll[] = {
      {EvalEngine::kAuto, "auto"}, {EvalEngine::kBinary, "binary"}, {EvalEngine::kTorch, "torch"}};
};
template <>
struct EnumNames<LogLevel> {
  static constexpr std::pair<LogLevel, const char*> kAll[] = {
      {LogLevel::kTrace, "trace"}, {LogLevel::kDebug, "debug"}, {LogLevel::kInfo, "info"},
      {LogLevel::kWarn, "warn"},   {LogLevel::kError, "error"}, {LogLevel::kOff, "off"}};
};
}  // namespace fedsmear::settings

namespace fedsmear {

// Off: docs/accuracy.md has the runs that chose it.
inline constexpr int kDefaultBnRecalibrationImages = 0;

// Which network, for how many classes, at what input size.
struct ModelSpec {
  std::string arch = "bdn28";
  int classes = 8;
  int input_size = 64;
  std::vector<std::string> class_names;  // order defines label ids; empty: taken from data
  std::string initial_model;
};

template <class Self, class V>
settings::IfDescribes<Self, ModelSpec> Describe(Self& m, V& v) {
  using settings::Spec;
  constexpr auto kEq = settings::PlanRule::kEqual;
  v(m.arch, Spec("arch", "bdn28 | bdn37 | bdn45 | densenet28.. | bdn-tiny").Plan(kEq));
  v(m.classes, Spec("classes", "number of classes").Range(2, 1000).Plan(kEq));
  v(m.input_size, Spec("input_size", "square input side in pixels").Range(8, 1024).Plan(kEq));
  v(m.class_names, Spec("class_names", "class names; their order defines label ids").Plan(kEq));
  v(m.initial_model, Spec("initial_model", "packed or float model to start from (empty: random)"));
}

// Image-to-tensor preprocessing, identical for training and evaluation.
struct PreprocessConfig {
  ResizeMode resize = ResizeMode::kPad;
  double center_crop = 1.0;
  std::vector<double> mean = {0.5, 0.5, 0.5};
  std::vector<double> std = {0.25, 0.25, 0.25};
};

template <class Self, class V>
settings::IfDescribes<Self, PreprocessConfig> Describe(Self& p, V& v) {
  using settings::Spec;
  constexpr auto kEq = settings::PlanRule::kEqual;
  v(p.resize, Spec("resize", "pad (keep the aspect ratio) | stretch").Plan(kEq));
  v(p.center_crop, Spec("center_crop", "fraction of the shorter side kept (1 = none)")
                       .Range(0.1, 1.0).Plan(kEq));
  v(p.mean, Spec("mean", "per channel (R, G, B), after scaling to [0,1]").Plan(kEq));
  v(p.std, Spec("std", "per channel (R, G, B), > 0").Plan(kEq));
}

// Round-level learning-rate schedule applied by the coordinator. The plan names the range it
// moves the rate in (train.lr_max, train.lr_min) and its kind.
struct LrScheduleConfig {
  LrScheduleKind kind = LrScheduleKind::kCosine;
  double gamma = 0.5;
  int step_rounds = 5;
  int patience = 2;
  double min_lr = 1e-5;
};

template <class Self, class V>
settings::IfDescribes<Self, LrScheduleConfig> Describe(Self& s, V& v) {
  using settings::Spec;
  constexpr auto kDerived = settings::PlanRule::kDerived;
  v(s.kind, Spec("kind", "constant | step | cosine | plateau").Plan(kDerived));
  v(s.gamma, Spec("gamma", "step/plateau: factor").Range(0, 1));
  v(s.step_rounds, Spec("step_rounds", "step: every this many rounds").Positive());
  v(s.patience, Spec("patience", "plateau: rounds without macro-F1 gain"));
  v(s.min_lr, Spec("min_lr", "the schedule's floor").Plan(kDerived));
}

struct HoldoutSet {
  std::string name;  // label in metrics and reports
  std::string path;  // image folder root/<class>/<files>
};

// An optional HTTP endpoint (coordinator status page and /metrics, a site's /metrics).
struct HttpEndpointConfig {
  bool enabled = false;
  std::string bind;  // the default (set per daemon) is loopback
  std::string token_file;
};

template <class Self, class V>
settings::IfDescribes<Self, HttpEndpointConfig> Describe(Self& h, V& v) {
  using settings::Spec;
  v(h.enabled, Spec("enabled", "serve the endpoint (off unless asked for)"));
  v(h.bind, Spec("bind", "host:port (port 0 = any free port)"));
  v(h.token_file, Spec("token_file", "optional: a file holding a bearer token every request "
                                     "must carry"));
}

struct CoordinatorConfig {
  std::string bind = "tcp://127.0.0.1:7878";
  bool insecure = false;
  std::string secret_key_file;
  std::string allowed_sites_file;
  std::string run_dir = "runs/latest";
  ModelSpec model;
  PreprocessConfig preprocess;
  TrainConfig train = FederatedTrainDefaults();
  LrScheduleConfig lr_schedule;
  std::string strategy = kDefaultStrategy;
  std::map<std::string, double> strategy_params;
  int rounds = 30;
  int min_sites = 2;
  int start_sites = 0;
  double fraction = 1.0;
  double round_deadline_s = 600;
  int max_round_retries = 3;
  double wait_for_sites_s = 120;
  double approval_wait_s = 86400;
  std::string codec_down = kDefaultCodecDown;
  std::string codec_up = kDefaultCodecUp;
  double latent_epsilon = kDefaultLatentEpsilon;
  FreshLatent latent_start = kDefaultLatentStart;
  FreshLatent latent_flip = kDefaultLatentFlip;
  std::vector<HoldoutSet> holdout;
  bool federated_evaluation = true;
  int bn_recalibration_images = kDefaultBnRecalibrationImages;
  EvalEngine eval_engine = EvalEngine::kAuto;
  double max_message_mb = 256;
  double heartbeat_s = 5;
  int early_stop_patience = 0;
  int keep_checkpoints = 3;
  int aggregation_threads = 2;
  int seed = 1;
  LogLevel log_level = LogLevel::kInfo;
  SecureAggregation secure_aggregation = SecureAggregation::kSecAggPlus;
  int secagg_threshold = 0;
  int secagg_neighbours = 0;
  double secagg_clip = 4.0;
  double secagg_stat_clip = 4096;
  double secagg_stage_deadline_s = 60;
  int64_t max_site_samples = 1000000;
  bool force_insecure = false;
  std::string audit_log;
  double audit_max_mb = 16;
  bool audit_sync = true;
  std::string signing_key_file;
  HttpEndpointConfig status{false, "127.0.0.1:9464", ""};
  bool status_after_run = false;
  // Flat keys that predate strategy_params (server_lr, vote_momentum), as the YAML gave them;
  // a strategy that declares one as its legacy key reads it into strategy_params
  // (coordinator/run_plan.h WithRegisteredDefaults). Not written back by ToYaml.
  std::map<std::string, double> legacy_strategy_keys;
  SimulationConfig simulation;  // read by `fedsmear simulate` only
};

// Facts about registered choices that decide plan membership, supplied by the layer that
// knows the registries (coordinator/run_plan.h).
struct PlanFacts {
  bool downlink_signs = false;  // codec_down sends binary weights as signs: latent_* apply
};
// The plan group of the settings that apply only to a sign downlink (PlanFacts::downlink_signs).
inline constexpr char kSignDownlinkGroup[] = "sign_downlink";

template <class Self, class V>
settings::IfDescribes<Self, CoordinatorConfig> Describe(Self& c, V& v) {
  using settings::PlanRule;
  using settings::Spec;
  constexpr PlanRule kEq = PlanRule::kEqual;
  const bool secure = c.secure_aggregation != SecureAggregation::kOff;
  v(c.bind, Spec("bind", "ZeroMQ endpoint the coordinator binds"));
  v(c.insecure, Spec("insecure", "plain TCP, no CurveZMQ: local debugging only"));
  v(c.secret_key_file, Spec("secret_key_file", "the coordinator's CurveZMQ secret key"));
  v(c.allowed_sites_file, Spec("allowed_sites_file", "lines 'site-id public-key [ed25519-key]'"));
  v(c.run_dir, Spec("run_dir", "metrics, checkpoints, models and the audit log of the run"));
  v(c.model, Spec("model", "the network").Plan(kEq));
  v(c.preprocess, Spec("preprocess", "image-to-tensor preprocessing").Plan(kEq));
  v(c.train, Spec("train", "what each site does in a round").Plan(kEq));
  v(c.lr_schedule, Spec("lr_schedule", "the coordinator's per-round learning-rate schedule"));
  v(c.strategy, Spec("strategy", "aggregation strategy (the strategy registry; --help lists "
                                 "them)").Plan(kEq));
  v(c.strategy_params, Spec("strategy_params", "the strategy's own parameters (the plan names "
                                               "each, defaults filled in)")
                           .Plan(kEq).Absent("{}"));
  v(c.rounds, Spec("rounds", "rounds of the run").Range(1, 100000).Plan(kEq));
  v(c.min_sites, Spec("min_sites", "fewest updates a round aggregates").Range(1, 100000));
  v(c.start_sites, Spec("start_sites", "wait for this many sites before round 1 (0 = min_sites)"));
  v(c.fraction, Spec("fraction", "share of connected sites selected per round").Range(0.001, 1));
  v(c.round_deadline_s, Spec("round_deadline_s", "a round closes with what arrived by then")
                            .Positive());
  v(c.max_round_retries, Spec("max_round_retries", "below min_sites: retry this often, then "
                                                   "stop the run"));
  v(c.wait_for_sites_s, Spec("wait_for_sites_s", "before round 1: wait this long for min_sites"));
  v(c.approval_wait_s, Spec("approval_wait_s", "how long a round waits for connected sites whose "
                                               "approval of the training plan is pending")
                           .Positive());
  v(c.codec_down, Spec("codec_down", "how the model travels to sites (codec registry)").Plan(kEq));
  v(c.codec_up, Spec("codec_up", "how sites send their updates (codec registry)").Plan(kEq));
  v(c.latent_epsilon, Spec("latent_epsilon", "sign downlinks: latent magnitude of a flipped sign")
                          .Range(1e-9, 1).Plan(kEq).PlanGroup(kSignDownlinkGroup));
  v(c.latent_start, Spec("latent_start", "sign downlinks: latent magnitude of a weight a site "
                                         "holds no state for: glorot | epsilon")
                        .Plan(kEq).PlanGroup(kSignDownlinkGroup));
  v(c.latent_flip, Spec("latent_flip", "sign downlinks: latent magnitude of a weight whose sign "
                                       "the federation flipped: epsilon | glorot")
                       .Plan(kEq).Absent("epsilon").PlanGroup(kSignDownlinkGroup));
  v(c.federated_evaluation, Spec("federated_evaluation", "sites also score each new global "
                                                         "model on their validation split")
                                .Plan(kEq));
  v(c.bn_recalibration_images,
    Spec("bn_recalibration_images", "after each round sites recompute the new model's "
                                    "batch-norm statistics over up to this many images and the "
                                    "coordinator pools them (0 = off, the default; under "
                                    "secagg+ by a second secure sum of the round)")
        .Range(0, 1000000).Plan(PlanRule::kAtMost).Absent("0"));
  v(c.eval_engine, Spec("eval_engine", "engine of the central evaluation: auto (1-bit engine "
                                       "for binarized models) | binary | torch"));
  v(c.max_message_mb, Spec("max_message_mb", "larger messages are refused unread").Positive());
  v(c.heartbeat_s, Spec("heartbeat_s", "sites silent for 3x this are considered gone").Positive());
  v(c.early_stop_patience, Spec("early_stop_patience", "rounds without central macro-F1 gain "
                                                       "(0 = off)"));
  v(c.keep_checkpoints, Spec("keep_checkpoints", "checkpoints kept").Range(1, 1000));
  v(c.aggregation_threads, Spec("aggregation_threads", "threads that add updates into the "
                                                       "running sums").Range(1, 64));
  v(c.seed, Spec("seed", "seed of selection and initialisation"));
  v(c.log_level, Spec("log_level", "trace | debug | info | warn | error | off"));
  v(c.secure_aggregation, Spec("secure_aggregation", "secagg+ | off (SecAgg+, the default: the "
                                                     "coordinator learns only the sum of the "
                                                     "updates; needs >= 3 sites)")
                              .Plan(kEq, "secure_aggregation.mode"));
  v(c.secagg_threshold, Spec("secagg_threshold", "t (0 = recommended for k)")
                            .Range(0, 65535).Plan(kEq, "secure_aggregation.threshold")
                            .PlanWhen(secure));
  v(c.secagg_neighbours, Spec("secagg_neighbours", "k (0 = default for n and t)")
                             .Range(0, 65535).Plan(kEq, "secure_aggregation.neighbours")
                             .PlanWhen(secure));
  v(c.secagg_clip, Spec("secagg_clip", "clip of each scaled update-delta value")
                       .Range(1e-6, 1e6).Plan(kEq, "secure_aggregation.clip").PlanWhen(secure));
  v(c.secagg_stat_clip, Spec("secagg_stat_clip", "clip of batch-norm running statistics")
                            .Range(1e-6, 1e6).Plan(kEq, "secure_aggregation.stat_clip")
                            .PlanWhen(secure));
  v(c.secagg_stage_deadline_s, Spec("secagg_stage_deadline_s", "key, share and unmasking "
                                                               "stages").Positive());
  v(c.max_site_samples, Spec("max_site_samples", "a site's weight is its hello's training-set "
                                                 "size, capped here").Range(1, 1e12));
  v(c.force_insecure, Spec("force_insecure", "allow insecure with secagg+ or a non-loopback "
                                             "bind (tests only)"));
  v(c.audit_log, Spec("audit_log", "the coordinator's audit log (empty: RUN_DIR/audit.jsonl)"));
  v(c.audit_max_mb, Spec("audit_max_mb", "the audit log rotates at this size")
                        .Range(0.01, 1e6));
  v(c.audit_sync, Spec("audit_sync", "fdatasync every audit entry (false only in simulations)"));
  v(c.signing_key_file, Spec("signing_key_file", "Ed25519 key (NAME.sign.key) that signs the "
                                                 "audit log (empty: unsigned)"));
  v(c.status, Spec("status", "live status page, JSON API and Prometheus /metrics"));
  v(c.status_after_run, Spec("status_after_run", "when the run ends, keep serving its final "
                                                 "status page and /metrics until stopped"));
  v(c.simulation, Spec("simulation", "fedsmear simulate only: its held-out carve and "
                                     "scenario (common/simulation_config.h)"));
}

struct DataConfig {
  std::string root;
  std::string manifest;
  double val_fraction = 0.1;
  SplitMode split = SplitMode::kStratified;
  int max_image_side = 8192;
  int loader_threads = 1;
  bool cache_images = true;
  int seed = 1;
};

template <class Self, class V>
settings::IfDescribes<Self, DataConfig> Describe(Self& d, V& v) {
  using settings::Spec;
  v(d.root, Spec("root", "image folder root/<class>/<files>"));
  v(d.manifest, Spec("manifest", "or a CSV path,label[,group]"));
  v(d.val_fraction, Spec("val_fraction", "held back for local validation").Range(0, 0.9));
  v(d.split, Spec("split", "stratified | group"));
  v(d.max_image_side, Spec("max_image_side", "larger images are skipped as absurd").Positive());
  v(d.loader_threads, Spec("loader_threads", "decoding and augmentation workers").Range(1, 64));
  v(d.cache_images, Spec("cache_images", "keep decoded, resized images in memory after epoch 1"));
  v(d.seed, Spec("seed", "seed of the validation split"));
}

// What a site accepts; refused tasks are answered with the reason (docs/security.md).
struct SitePolicy {
  bool require_plan_approval = true;
  int min_samples_per_class = 0;
  int max_local_epochs = 20;
  bool share_class_counts = true;
  bool require_secure_aggregation = true;
  std::string secagg_roster_file;
  bool require_secagg_roster = true;
  int min_secagg_sites = 3;
  int min_secagg_threshold = 0;
  int min_secagg_neighbours = 0;
  int max_secagg_sites = 1000;
  int max_input_size = 1024;
  double max_model_mb = 1024;
};

template <class Self, class V>
settings::IfDescribes<Self, SitePolicy> Describe(Self& p, V& v) {
  using settings::Spec;
  v(p.require_plan_approval, Spec("require_plan_approval", "train and evaluate only under a "
                                                           "training plan this site approved"));
  v(p.min_samples_per_class, Spec("min_samples_per_class", "refuse to train below this"));
  v(p.max_local_epochs, Spec("max_local_epochs", "refuse tasks asking for more").Positive());
  v(p.share_class_counts, Spec("share_class_counts", "send per-class counts in the hello"));
  v(p.require_secure_aggregation, Spec("require_secure_aggregation", "refuse any training task "
                                                                     "that is not SecAgg+"));
  v(p.secagg_roster_file, Spec("secagg_roster_file", "lines 'site-id ed25519-key-hex' (or the "
                                                     "allowlist's three columns): every peer of "
                                                     "a SecAgg+ round must be on it"));
  v(p.require_secagg_roster, Spec("require_secagg_roster", "refuse SecAgg+ setups when there is "
                                                           "no secagg_roster_file"));
  v(p.min_secagg_sites, Spec("min_secagg_sites", "refuse SecAgg+ setups listing fewer sites (3 "
                                                 "at the least)").Range(3, 65535));
  v(p.min_secagg_threshold, Spec("min_secagg_threshold", "refuse setups with a lower t (0: only "
                                                         "t > (k+1)/2)").Range(0, 65535));
  v(p.min_secagg_neighbours, Spec("min_secagg_neighbours", "refuse setups with fewer "
                                                           "neighbours k").Range(0, 65534));
  v(p.max_secagg_sites, Spec("max_secagg_sites", "refuse setups listing more sites")
                            .Range(2, 65535));
  v(p.max_input_size, Spec("max_input_size", "refuse larger model inputs").Range(8, 4096));
  v(p.max_model_mb, Spec("max_model_mb", "refuse larger unpacked models").Positive());
}

struct ClientConfig {
  std::string site_id;
  std::string coordinator = "tcp://127.0.0.1:7878";
  bool insecure = false;
  std::string coordinator_public_key_file;
  std::string secret_key_file;
  std::string signing_key_file;
  DataConfig data;
  PreprocessConfig preprocess;
  SitePolicy policy;
  std::string policy_file;
  int threads = 2;
  EvalEngine eval_engine = EvalEngine::kAuto;
  std::string state_dir;
  double heartbeat_s = 5;
  bool exit_after_run = false;
  LogLevel log_level = LogLevel::kInfo;
  std::string approved_plans;
  std::string audit_log;
  double audit_max_mb = 16;
  bool audit_sync = true;
  HttpEndpointConfig metrics{false, "127.0.0.1:9465", ""};
};

template <class Self, class V>
settings::IfDescribes<Self, ClientConfig> Describe(Self& c, V& v) {
  using settings::Spec;
  v(c.site_id, Spec("site_id", "this site's id (required)"));
  v(c.coordinator, Spec("coordinator", "the coordinator's ZeroMQ endpoint"));
  v(c.insecure, Spec("insecure", "plain TCP, no CurveZMQ: local debugging only"));
  v(c.coordinator_public_key_file, Spec("coordinator_public_key_file", "the coordinator's "
                                                                       "CurveZMQ public key"));
  v(c.secret_key_file, Spec("secret_key_file", "the site's CurveZMQ secret key"));
  v(c.signing_key_file, Spec("signing_key_file", "the site's Ed25519 key for secure "
                                                 "aggregation and audit log signatures"));
  v(c.threads, Spec("threads", "threads for local training and evaluation").Range(1, 256));
  v(c.eval_engine, Spec("eval_engine", "engine of evaluation and batch-norm recalibration: auto "
                                       "(1-bit engine for binarized models) | binary | torch"));
  v(c.policy_file, Spec("policy_file", "optional separate YAML with the policy keys (kept by the "
                                       "hospital's privacy officer); overrides policy"));
  v(c.state_dir, Spec("state_dir", "latent weights, optimizer state and approvals survive "
                                   "restarts here (empty: memory only)"));
  v(c.heartbeat_s, Spec("heartbeat_s", "heartbeat period").Positive());
  v(c.exit_after_run, Spec("exit_after_run", "exit when the coordinator ends its run "
                                             "(simulations); false: the daemon stays up and "
                                             "joins the next run"));
  v(c.log_level, Spec("log_level", "trace | debug | info | warn | error | off"));
  v(c.approved_plans, Spec("approved_plans", "optional file of approved plan hashes, one per "
                                             "line"));
  v(c.audit_log, Spec("audit_log", "the site's audit log (empty: STATE_DIR/audit.jsonl)"));
  v(c.audit_max_mb, Spec("audit_max_mb", "the audit log rotates at this size").Range(0.01, 1e6));
  v(c.audit_sync, Spec("audit_sync", "fdatasync every audit entry (false only in simulations)"));
  v(c.data, Spec("data", "the site's images"));
  v(c.preprocess, Spec("preprocess", "image-to-tensor preprocessing"));
  v(c.policy, Spec("policy", "what this site accepts"));
  v(c.metrics, Spec("metrics", "the site's own Prometheus /metrics"));
}

// Checks across the fields of one struct, run by the YAML reader after the struct's fields
// (settings::CheckSettings): class_names against classes, three-channel mean and std, host:port
// binds, a site id.
void CheckSettings(YamlReader& r, const ModelSpec& m);
void CheckSettings(YamlReader& r, const PreprocessConfig& p);
void CheckSettings(YamlReader& r, const HttpEndpointConfig& h);
void CheckSettings(YamlReader& r, const SitePolicy& p);
void CheckSettings(YamlReader& r, const ClientConfig& c);

Result<CoordinatorConfig> LoadCoordinatorConfig(const std::string& path);
Result<ClientConfig> LoadClientConfig(const std::string& path);

// Sets one setting of `config` from its dotted key ("train.batch_size") and a YAML value
// ("16"), checked exactly as the loader checks it (unknown keys, types, ranges).
Status ApplySetting(CoordinatorConfig* config, const std::string& key, const std::string& value);

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
