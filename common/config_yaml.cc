// Writing typed configs back to YAML; the inverse of common/config.cc's loaders.
#include <yaml-cpp/yaml.h>

#include "common/config.h"

namespace fedsmear {
namespace {

template <typename T>
void Put(YAML::Emitter& e, const char* key, const T& value) {
  e << YAML::Key << key << YAML::Value << value;
}

void PutList(YAML::Emitter& e, const char* key, const std::vector<std::string>& v) {
  e << YAML::Key << key << YAML::Value << YAML::Flow << v;
}
void PutList(YAML::Emitter& e, const char* key, const std::vector<double>& v) {
  e << YAML::Key << key << YAML::Value << YAML::Flow << v;
}

void Emit(YAML::Emitter& e, const char* key, const PreprocessConfig& p) {
  e << YAML::Key << key << YAML::Value << YAML::BeginMap;
  Put(e, "resize", p.resize);
  Put(e, "center_crop", p.center_crop);
  PutList(e, "mean", p.mean);
  PutList(e, "std", p.std);
  e << YAML::EndMap;
}

void Emit(YAML::Emitter& e, const char* key, const TrainConfig& t) {
  e << YAML::Key << key << YAML::Value << YAML::BeginMap;
  Put(e, "optimizer", t.optimizer);
  Put(e, "learning_rate", t.learning_rate);
  Put(e, "momentum", t.momentum);
  Put(e, "weight_decay", t.weight_decay);
  Put(e, "local_epochs", t.local_epochs);
  Put(e, "local_steps", t.local_steps);
  Put(e, "batch_size", t.batch_size);
  Put(e, "class_weights", t.class_weights);
  Put(e, "bn_momentum", t.bn_momentum);
  Put(e, "fedprox_mu", t.fedprox_mu);
  Put(e, "optimizer_state", t.optimizer_state);
  Put(e, "logit_adjustment", t.logit_adjustment);
  Put(e, "logit_adjustment_prior", t.logit_adjustment_prior);
  const AugmentConfig& a = t.augment;
  e << YAML::Key << "augment" << YAML::Value << YAML::BeginMap;
  Put(e, "hflip", a.hflip);
  Put(e, "vflip", a.vflip);
  Put(e, "rot90", a.rot90);
  Put(e, "rotate_deg", a.rotate_deg);
  Put(e, "zoom", a.zoom);
  Put(e, "translate", a.translate);
  Put(e, "brightness", a.brightness);
  Put(e, "contrast", a.contrast);
  Put(e, "hue", a.hue);
  Put(e, "cutmix", a.cutmix);
  e << YAML::EndMap << YAML::EndMap;
}

void Emit(YAML::Emitter& e, const char* key, const HttpEndpointConfig& h) {
  e << YAML::Key << key << YAML::Value << YAML::BeginMap;
  Put(e, "enabled", h.enabled);
  Put(e, "bind", h.bind);
  Put(e, "token_file", h.token_file);
  e << YAML::EndMap;
}

}  // namespace

std::string ToYaml(const CoordinatorConfig& c) {
  YAML::Emitter e;
  e.SetDoublePrecision(17);
  e << YAML::BeginMap;
  Put(e, "bind", c.bind);
  Put(e, "insecure", c.insecure);
  Put(e, "secret_key_file", c.secret_key_file);
  Put(e, "allowed_sites_file", c.allowed_sites_file);
  Put(e, "run_dir", c.run_dir);
  e << YAML::Key << "model" << YAML::Value << YAML::BeginMap;
  Put(e, "arch", c.model.arch);
  Put(e, "classes", c.model.classes);
  Put(e, "input_size", c.model.input_size);
  PutList(e, "class_names", c.model.class_names);
  Put(e, "initial_model", c.model.initial_model);
  e << YAML::EndMap;
  Emit(e, "preprocess", c.preprocess);
  Emit(e, "train", c.train);
  e << YAML::Key << "lr_schedule" << YAML::Value << YAML::BeginMap;
  Put(e, "kind", c.lr_schedule.kind);
  Put(e, "gamma", c.lr_schedule.gamma);
  Put(e, "step_rounds", c.lr_schedule.step_rounds);
  Put(e, "patience", c.lr_schedule.patience);
  Put(e, "min_lr", c.lr_schedule.min_lr);
  e << YAML::EndMap;
  Put(e, "strategy", c.strategy);
  if (!c.strategy_params.empty()) {
    e << YAML::Key << "strategy_params" << YAML::Value << YAML::BeginMap;
    for (const auto& [key, value] : c.strategy_params) Put(e, key.c_str(), value);
    e << YAML::EndMap;
  }
  Put(e, "server_lr", c.server_lr);
  Put(e, "vote_momentum", c.vote_momentum);
  Put(e, "rounds", c.rounds);
  Put(e, "min_sites", c.min_sites);
  Put(e, "start_sites", c.start_sites);
  Put(e, "fraction", c.fraction);
  Put(e, "round_deadline_s", c.round_deadline_s);
  Put(e, "max_round_retries", c.max_round_retries);
  Put(e, "wait_for_sites_s", c.wait_for_sites_s);
  Put(e, "codec_down", c.codec_down);
  Put(e, "codec_up", c.codec_up);
  Put(e, "latent_epsilon", c.latent_epsilon);
  Put(e, "latent_start", c.latent_start);
  Put(e, "latent_flip", c.latent_flip);
  Put(e, "max_message_mb", c.max_message_mb);
  Put(e, "heartbeat_s", c.heartbeat_s);
  Put(e, "early_stop_patience", c.early_stop_patience);
  Put(e, "federated_evaluation", c.federated_evaluation);
  Put(e, "bn_recalibration_images", c.bn_recalibration_images);
  Put(e, "keep_checkpoints", c.keep_checkpoints);
  Put(e, "aggregation_threads", c.aggregation_threads);
  Put(e, "seed", c.seed);
  Put(e, "log_level", c.log_level);
  Put(e, "secure_aggregation", c.secure_aggregation);
  Put(e, "secagg_threshold", c.secagg_threshold);
  Put(e, "secagg_neighbours", c.secagg_neighbours);
  Put(e, "secagg_clip", c.secagg_clip);
  Put(e, "secagg_stat_clip", c.secagg_stat_clip);
  Put(e, "secagg_stage_deadline_s", c.secagg_stage_deadline_s);
  Put(e, "max_site_samples", c.max_site_samples);
  Put(e, "force_insecure", c.force_insecure);
  Put(e, "audit_log", c.audit_log);
  Put(e, "audit_max_mb", c.audit_max_mb);
  Put(e, "audit_sync", c.audit_sync);
  Emit(e, "status", c.status);
  e << YAML::Key << "holdout" << YAML::Value << YAML::BeginSeq;
  for (const HoldoutSet& h : c.holdout) {
    e << YAML::BeginMap;
    Put(e, "name", h.name);
    Put(e, "path", h.path);
    e << YAML::EndMap;
  }
  e << YAML::EndSeq << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

std::string ToYaml(const ClientConfig& c) {
  YAML::Emitter e;
  e.SetDoublePrecision(17);
  e << YAML::BeginMap;
  Put(e, "site_id", c.site_id);
  Put(e, "coordinator", c.coordinator);
  Put(e, "insecure", c.insecure);
  Put(e, "coordinator_public_key_file", c.coordinator_public_key_file);
  Put(e, "secret_key_file", c.secret_key_file);
  Put(e, "signing_key_file", c.signing_key_file);
  Put(e, "threads", c.threads);
  Put(e, "policy_file", c.policy_file);
  Put(e, "state_dir", c.state_dir);
  Put(e, "heartbeat_s", c.heartbeat_s);
  Put(e, "log_level", c.log_level);
  Put(e, "approved_plans", c.approved_plans);
  Put(e, "audit_log", c.audit_log);
  Put(e, "audit_max_mb", c.audit_max_mb);
  Put(e, "audit_sync", c.audit_sync);
  const DataConfig& d = c.data;
  e << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  Put(e, "root", d.root);
  Put(e, "manifest", d.manifest);
  Put(e, "val_fraction", d.val_fraction);
  Put(e, "split", d.split);
  Put(e, "max_image_side", d.max_image_side);
  Put(e, "loader_threads", d.loader_threads);
  Put(e, "cache_images", d.cache_images);
  Put(e, "seed", d.seed);
  e << YAML::EndMap;
  Emit(e, "preprocess", c.preprocess);
  e << YAML::Key << "policy" << YAML::Value << YAML::BeginMap;
  Put(e, "require_plan_approval", c.policy.require_plan_approval);
  Put(e, "min_samples_per_class", c.policy.min_samples_per_class);
  Put(e, "max_local_epochs", c.policy.max_local_epochs);
  Put(e, "share_class_counts", c.policy.share_class_counts);
  Put(e, "require_secure_aggregation", c.policy.require_secure_aggregation);
  Put(e, "secagg_roster_file", c.policy.secagg_roster_file);
  Put(e, "min_secagg_threshold", c.policy.min_secagg_threshold);
  Put(e, "min_secagg_neighbours", c.policy.min_secagg_neighbours);
  Put(e, "max_secagg_sites", c.policy.max_secagg_sites);
  Put(e, "max_input_size", c.policy.max_input_size);
  Put(e, "max_model_mb", c.policy.max_model_mb);
  e << YAML::EndMap;
  Emit(e, "metrics", c.metrics);
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace fedsmear
