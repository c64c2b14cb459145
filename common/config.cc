#include "common/config.h"

#include "common/yaml_reader.h"

#include <filesystem>

namespace fedsmear {

// See common/config.h and docs/accuracy.md: the 1-bit path (sign votes of the binary weights
// both ways, 8-bit floats) is the default since 2026-11-28.
const char kDefaultStrategy[] = "fedvote";
const char kDefaultCodecDown[] = "sign1+q8";
const char kDefaultCodecUp[] = "sign1+q8";
const char kDefaultLatentStart[] = "glorot";
const char kDefaultLatentFlip[] = "epsilon";
// Sites keep their Adam moments between rounds since 2026-11-29, night (docs/accuracy.md).
const char kDefaultOptimizerState[] = "keep";

TrainConfig FederatedTrainDefaults() {
  TrainConfig t;
  t.local_steps = kDefaultFederatedLocalSteps;
  t.optimizer_state = kDefaultOptimizerState;
  return t;
}
namespace {

void RequirePositive(YamlReader& r, const std::string& key, double value) {
  if (!(value > 0)) r.Fail(key, "must be > 0");
}
void RequireRange(YamlReader& r, const std::string& key, double value, double lo, double hi) {
  if (!(value >= lo && value <= hi)) {
    r.Fail(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
}

Status ReadAugment(YamlReader r, AugmentConfig* a) {
  r.Read("hflip", &a->hflip);
  r.Read("vflip", &a->vflip);
  r.Read("rot90", &a->rot90);
  r.Read("rotate_deg", &a->rotate_deg);
  r.Read("zoom", &a->zoom);
  r.Read("translate", &a->translate);
  r.Read("brightness", &a->brightness);
  r.Read("contrast", &a->contrast);
  r.Read("hue", &a->hue);
  r.Read("cutmix", &a->cutmix);
  RequireRange(r, "rotate_deg", a->rotate_deg, 0, 180);
  RequireRange(r, "zoom", a->zoom, 0, 0.9);
  RequireRange(r, "translate", a->translate, 0, 0.5);
  RequireRange(r, "brightness", a->brightness, 0, 1);
  RequireRange(r, "contrast", a->contrast, 0, 1);
  RequireRange(r, "hue", a->hue, 0, 0.5);
  RequireRange(r, "cutmix", a->cutmix, 0, 1);
  return r.Finish();
}

Status ReadLrSchedule(YamlReader r, LrScheduleConfig* s) {
  r.ReadEnum("kind", {"constant", "step", "cosine", "plateau"}, &s->kind);
  r.Read("gamma", &s->gamma);
  r.Read("step_rounds", &s->step_rounds);
  r.Read("patience", &s->patience);
  r.Read("min_lr", &s->min_lr);
  RequireRange(r, "gamma", s->gamma, 0, 1);
  RequirePositive(r, "step_rounds", s->step_rounds);
  return r.Finish();
}

Status ReadDataConfig(YamlReader r, DataConfig* d) {
  r.Read("root", &d->root);
  r.Read("manifest", &d->manifest);
  r.Read("val_fraction", &d->val_fraction);
  r.ReadEnum("split", {"stratified", "group"}, &d->split);
  r.Read("max_image_side", &d->max_image_side);
  r.Read("loader_threads", &d->loader_threads);
  r.Read("cache_images", &d->cache_images);
  r.Read("seed", &d->seed);
  RequireRange(r, "val_fraction", d->val_fraction, 0, 0.9);
  RequirePositive(r, "max_image_side", d->max_image_side);
  RequireRange(r, "loader_threads", d->loader_threads, 1, 64);
  return r.Finish();
}

Status ReadPolicy(YamlReader r, SitePolicy* p) {
  r.Read("require_plan_approval", &p->require_plan_approval);
  r.Read("min_samples_per_class", &p->min_samples_per_class);
  r.Read("max_local_epochs", &p->max_local_epochs);
  r.Read("share_class_counts", &p->share_class_counts);
  r.Read("require_secure_aggregation", &p->require_secure_aggregation);
  r.Read("secagg_roster_file", &p->secagg_roster_file);
  r.Read("min_secagg_threshold", &p->min_secagg_threshold);
  r.Read("min_secagg_neighbours", &p->min_secagg_neighbours);
  r.Read("max_secagg_sites", &p->max_secagg_sites);
  r.Read("max_input_size", &p->max_input_size);
  r.Read("max_model_mb", &p->max_model_mb);
  RequirePositive(r, "max_local_epochs", p->max_local_epochs);
  RequireRange(r, "min_secagg_threshold", p->min_secagg_threshold, 0, 65535);
  RequireRange(r, "min_secagg_neighbours", p->min_secagg_neighbours, 0, 65534);
  RequireRange(r, "max_secagg_sites", p->max_secagg_sites, 2, 65535);
  RequireRange(r, "max_input_size", p->max_input_size, 8, 4096);
  RequirePositive(r, "max_model_mb", p->max_model_mb);
  if (p->require_secure_aggregation && p->secagg_roster_file.empty()) {
    r.Fail("require_secure_aggregation",
           "needs secagg_roster_file: without a roster the coordinator picks the peers");
  }
  return r.Finish();
}

Status ReadHttpEndpoint(YamlReader r, HttpEndpointConfig* h) {
  r.Read("enabled", &h->enabled);
  r.Read("bind", &h->bind);
  r.Read("token_file", &h->token_file);
  const size_t colon = h->bind.rfind(':');
  const std::string port = colon == std::string::npos ? "" : h->bind.substr(colon + 1);
  if (colon == 0 || port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
      port.size() > 5 || std::stoi(port) > 65535) {
    r.Fail("bind", "needs host:port (e.g. 127.0.0.1:9464; port 0 = any free port), not '" +
                       h->bind + "'");
  }
  return r.Finish();
}

}  // namespace

Status ReadModelSpec(YamlReader r, ModelSpec* m) {
  r.Read("arch", &m->arch);
  r.Read("classes", &m->classes);
  r.Read("input_size", &m->input_size);
  r.Read("class_names", &m->class_names);
  r.Read("initial_model", &m->initial_model);
  RequireRange(r, "classes", m->classes, 2, 1000);
  RequireRange(r, "input_size", m->input_size, 8, 1024);
  if (!m->class_names.empty() && static_cast<int>(m->class_names.size()) != m->classes) {
    r.Fail("class_names", "has " + std::to_string(m->class_names.size()) +
                              " names but classes is " + std::to_string(m->classes));
  }
  return r.Finish();
}

Status ReadTrainConfig(YamlReader r, TrainConfig* t) {
  r.ReadEnum("optimizer", {"adam", "sgd"}, &t->optimizer);
  r.Read("learning_rate", &t->learning_rate);
  r.Read("momentum", &t->momentum);
  r.Read("weight_decay", &t->weight_decay);
  r.Read("local_epochs", &t->local_epochs);
  r.Read("local_steps", &t->local_steps);
  r.Read("batch_size", &t->batch_size);
  r.Read("class_weights", &t->class_weights);
  r.Read("bn_momentum", &t->bn_momentum);
  r.Read("fedprox_mu", &t->fedprox_mu);
  r.ReadEnum("optimizer_state", {"fresh", "keep", "keep_scale"}, &t->optimizer_state);
  r.Read("logit_adjustment", &t->logit_adjustment);
  r.ReadEnum("logit_adjustment_prior", {"pooled", "balanced"}, &t->logit_adjustment_prior);
  RequirePositive(r, "learning_rate", t->learning_rate);
  RequireRange(r, "momentum", t->momentum, 0, 1);
  RequireRange(r, "weight_decay", t->weight_decay, 0, 1);
  RequireRange(r, "local_epochs", t->local_epochs, 1, 1000);
  RequireRange(r, "local_steps", t->local_steps, 0, 10000000);
  RequireRange(r, "batch_size", t->batch_size, 1, 4096);
  RequireRange(r, "bn_momentum", t->bn_momentum, 0, 1);
  RequireRange(r, "fedprox_mu", t->fedprox_mu, 0, 100);
  RequireRange(r, "logit_adjustment", t->logit_adjustment, 0, 4);
  RETURN_IF_ERROR(ReadAugment(r.Child("augment"), &t->augment));
  return r.Finish();
}

Status ReadPreprocessConfig(YamlReader r, PreprocessConfig* p) {
  r.ReadEnum("resize", {"pad", "stretch"}, &p->resize);
  r.Read("center_crop", &p->center_crop);
  r.Read("mean", &p->mean);
  r.Read("std", &p->std);
  RequireRange(r, "center_crop", p->center_crop, 0.1, 1.0);
  if (p->mean.size() != 3) r.Fail("mean", "needs 3 values (R, G, B)");
  if (p->std.size() != 3) r.Fail("std", "needs 3 values (R, G, B)");
  for (double s : p->std) {
    if (!(s > 0)) r.Fail("std", "values must be > 0");
  }
  return r.Finish();
}

Result<CoordinatorConfig> LoadCoordinatorConfig(const std::string& path) {
  ASSIGN_OR_RETURN(YAML::Node root, LoadYamlFile(path));
  CoordinatorConfig c;
  YamlReader r(root, "");
  r.Read("bind", &c.bind);
  r.Read("insecure", &c.insecure);
  r.Read("secret_key_file", &c.secret_key_file);
  r.Read("allowed_sites_file", &c.allowed_sites_file);
  r.Read("run_dir", &c.run_dir);
  // The strategy registry checks the name and parameters (CheckRegisteredChoices in
  // coordinator/strategy_registry.h).
  r.Read("strategy", &c.strategy);
  const YAML::Node params_node = static_cast<const YAML::Node&>(root)["strategy_params"];
  if (params_node && !params_node.IsMap()) {
    r.Fail("strategy_params", "must be a mapping of parameter names to numbers");
  } else if (params_node) {
    YamlReader params = r.Child("strategy_params");
    for (const auto& kv : params_node) {
      const std::string key = kv.first.as<std::string>();
      double value = 0;
      params.Read(key, &value);
      c.strategy_params[key] = value;
    }
    RETURN_IF_ERROR(params.Finish().WithContext(path));
  }
  r.Read("server_lr", &c.server_lr);
  r.Read("vote_momentum", &c.vote_momentum);
  RequireRange(r, "vote_momentum", c.vote_momentum, 0, 0.99);
  r.Read("rounds", &c.rounds);
  r.Read("min_sites", &c.min_sites);
  r.Read("start_sites", &c.start_sites);
  r.Read("fraction", &c.fraction);
  r.Read("round_deadline_s", &c.round_deadline_s);
  r.Read("max_round_retries", &c.max_round_retries);
  r.Read("wait_for_sites_s", &c.wait_for_sites_s);
  // Checked against the codec registries by CheckRegisteredChoices (coordinator/).
  r.Read("codec_down", &c.codec_down);
  r.Read("codec_up", &c.codec_up);
  r.Read("max_message_mb", &c.max_message_mb);
  r.Read("latent_epsilon", &c.latent_epsilon);
  RequireRange(r, "latent_epsilon", c.latent_epsilon, 1e-9, 1);
  r.ReadEnum("latent_start", {"epsilon", "glorot"}, &c.latent_start);
  r.ReadEnum("latent_flip", {"epsilon", "glorot"}, &c.latent_flip);
  r.Read("heartbeat_s", &c.heartbeat_s);
  r.Read("early_stop_patience", &c.early_stop_patience);
  r.Read("federated_evaluation", &c.federated_evaluation);
  r.Read("bn_recalibration_images", &c.bn_recalibration_images);
  RequireRange(r, "bn_recalibration_images", c.bn_recalibration_images, 0, 1000000);
  r.Read("keep_checkpoints", &c.keep_checkpoints);
  r.Read("aggregation_threads", &c.aggregation_threads);
  r.Read("seed", &c.seed);
  r.ReadEnum("log_level", {"trace", "debug", "info", "warn", "error", "off"}, &c.log_level);
  r.ReadEnum("secure_aggregation", {"off", "secagg+"}, &c.secure_aggregation);
  r.Read("secagg_threshold", &c.secagg_threshold);
  r.Read("secagg_neighbours", &c.secagg_neighbours);
  r.Read("secagg_clip", &c.secagg_clip);
  r.Read("secagg_stat_clip", &c.secagg_stat_clip);
  r.Read("secagg_stage_deadline_s", &c.secagg_stage_deadline_s);
  r.Read("max_site_samples", &c.max_site_samples);
  r.Read("force_insecure", &c.force_insecure);
  RequireRange(r, "max_site_samples", static_cast<double>(c.max_site_samples), 1, 1e12);
  RequireRange(r, "secagg_threshold", c.secagg_threshold, 0, 65535);
  RequireRange(r, "secagg_neighbours", c.secagg_neighbours, 0, 65535);
  RequireRange(r, "secagg_clip", c.secagg_clip, 1e-6, 1e6);
  RequireRange(r, "secagg_stat_clip", c.secagg_stat_clip, 1e-6, 1e6);
  RequirePositive(r, "secagg_stage_deadline_s", c.secagg_stage_deadline_s);
  // Governance.
  r.Read("audit_log", &c.audit_log);
  r.Read("audit_max_mb", &c.audit_max_mb);
  r.Read("audit_sync", &c.audit_sync);
  RequireRange(r, "audit_max_mb", c.audit_max_mb, 0.01, 1e6);
  // secure_aggregation secagg+ works with every strategy: each says what a site adds to the
  // round's sum (coordinator/round_sum.h) and SecAgg+ computes that sum; codec_up is then not
  // used (sites send the quantized, masked contribution).
  RequireRange(r, "rounds", c.rounds, 1, 100000);
  RequireRange(r, "min_sites", c.min_sites, 1, 100000);
  RequireRange(r, "fraction", c.fraction, 0.001, 1.0);
  RequirePositive(r, "round_deadline_s", c.round_deadline_s);
  RequirePositive(r, "max_message_mb", c.max_message_mb);
  RequirePositive(r, "heartbeat_s", c.heartbeat_s);
  RequireRange(r, "keep_checkpoints", c.keep_checkpoints, 1, 1000);
  RequireRange(r, "aggregation_threads", c.aggregation_threads, 1, 64);
  for (YamlReader& h : r.ChildList("holdout")) {
    HoldoutSet set;
    h.Read("name", &set.name);
    h.Read("path", &set.path);
    if (set.path.empty()) h.Fail("path", "is required");
    if (set.name.empty()) set.name = set.path;
    RETURN_IF_ERROR(h.Finish().WithContext(path));
    c.holdout.push_back(set);
  }
  Status st = ReadModelSpec(r.Child("model"), &c.model);
  if (st.ok()) st = ReadPreprocessConfig(r.Child("preprocess"), &c.preprocess);
  if (st.ok()) st = ReadTrainConfig(r.Child("train"), &c.train);
  if (st.ok()) st = ReadLrSchedule(r.Child("lr_schedule"), &c.lr_schedule);
  if (st.ok()) st = ReadHttpEndpoint(r.Child("status"), &c.status);
  if (st.ok()) st = r.Finish();
  RETURN_IF_ERROR(st.WithContext(path));
  return c;
}

Result<ClientConfig> LoadClientConfig(const std::string& path) {
  ASSIGN_OR_RETURN(YAML::Node root, LoadYamlFile(path));
  ClientConfig c;
  YamlReader r(root, "");
  r.Read("site_id", &c.site_id);
  r.Read("coordinator", &c.coordinator);
  r.Read("insecure", &c.insecure);
  r.Read("coordinator_public_key_file", &c.coordinator_public_key_file);
  r.Read("secret_key_file", &c.secret_key_file);
  r.Read("signing_key_file", &c.signing_key_file);
  r.Read("threads", &c.threads);
  r.Read("policy_file", &c.policy_file);
  r.Read("state_dir", &c.state_dir);
  r.Read("heartbeat_s", &c.heartbeat_s);
  r.ReadEnum("log_level", {"trace", "debug", "info", "warn", "error", "off"}, &c.log_level);
  // Governance.
  r.Read("approved_plans", &c.approved_plans);
  r.Read("audit_log", &c.audit_log);
  r.Read("audit_max_mb", &c.audit_max_mb);
  r.Read("audit_sync", &c.audit_sync);
  RequireRange(r, "audit_max_mb", c.audit_max_mb, 0.01, 1e6);
  if (c.site_id.empty()) r.Fail("site_id", "is required");
  RequireRange(r, "threads", c.threads, 1, 256);
  RequirePositive(r, "heartbeat_s", c.heartbeat_s);
  Status st = ReadDataConfig(r.Child("data"), &c.data);
  if (st.ok()) st = ReadPreprocessConfig(r.Child("preprocess"), &c.preprocess);
  if (st.ok()) st = ReadPolicy(r.Child("policy"), &c.policy);
  if (st.ok()) st = ReadHttpEndpoint(r.Child("metrics"), &c.metrics);
  if (st.ok()) st = r.Finish();
  if (st.ok() && !c.policy_file.empty()) {
    std::filesystem::path pf(c.policy_file);
    if (pf.is_relative()) pf = std::filesystem::path(path).parent_path() / pf;
    Result<YAML::Node> policy = LoadYamlFile(pf.string());
    st = policy.ok() ? ReadPolicy(YamlReader(*policy, ""), &c.policy).WithContext(pf.string())
                     : policy.status();
    if (!st.ok()) return st;
  }
  if (st.ok() && c.data.root.empty() && c.data.manifest.empty()) {
    st = InvalidArgument("data.root or data.manifest is required");
  }
  if (!c.approved_plans.empty() && std::filesystem::path(c.approved_plans).is_relative()) {
    c.approved_plans = (std::filesystem::path(path).parent_path() / c.approved_plans).string();
  }
  RETURN_IF_ERROR(st.WithContext(path));
  return c;
}

}  // namespace fedsmear
