// Whether a task stays inside the approved training plan (client/site_plan.h).
#include <cmath>
#include <cstdlib>

#include "client/site_plan.h"

namespace fedsmear {
namespace {

using nlohmann::json;

bool Same(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); }

std::string Num(double v) { return json(v).dump(); }

std::string CheckModel(const json& plan, uint32_t round, const std::string& arch,
                       uint32_t classes, uint32_t input_size,
                       const std::vector<std::string>& class_names) {
  const json& m = plan["model"];
  if (round > plan["rounds"].get<uint64_t>()) {
    return "round " + std::to_string(round) + " is beyond the plan's " +
           std::to_string(plan["rounds"].get<uint64_t>()) + " rounds";
  }
  if (arch != m["arch"].get<std::string>() || classes != m["classes"].get<uint64_t>() ||
      input_size != m["input_size"].get<uint64_t>()) {
    return "task is for a " + arch + " model with " + std::to_string(classes) + " classes at " +
           std::to_string(input_size) + " px; the plan says " + m["arch"].get<std::string>() +
           ", " + m["classes"].dump() + " classes, " + m["input_size"].dump() + " px";
  }
  auto names = m.find("class_names");
  if (names != m.end() && !names->empty() && !class_names.empty() &&
      class_names != names->get<std::vector<std::string>>()) {
    return "task names other classes than the plan";
  }
  return "";
}

std::string CheckTrainSettings(const json& p, const TrainConfig& t,
                               const std::vector<double>& class_prior) {
  if (t.optimizer != p["optimizer"].get<std::string>()) {
    return "task uses optimizer " + t.optimizer + "; the plan says " +
           p["optimizer"].get<std::string>();
  }
  const double lo = p["lr_min"].get<double>(), hi = p["lr_max"].get<double>();
  if (!(t.learning_rate >= lo * (1 - 1e-9) && t.learning_rate <= hi * (1 + 1e-9))) {
    return "learning rate " + Num(t.learning_rate) + " is outside the plan's [" + Num(lo) + ", " +
           Num(hi) + "]";
  }
  if (static_cast<uint64_t>(t.local_epochs) > p["local_epochs"].get<uint64_t>()) {
    return "task asks for " + std::to_string(t.local_epochs) + " local epochs; the plan allows " +
           p["local_epochs"].dump();
  }
  // A plan that caps the steps of a round allows no more; a plan without a cap allows any.
  if (p.contains("local_steps")) {
    if (!p["local_steps"].is_number_unsigned()) return "the plan's train.local_steps is not a count";
    const uint64_t cap = p["local_steps"].get<uint64_t>();
    if (t.local_steps <= 0 || static_cast<uint64_t>(t.local_steps) > cap) {
      return "task asks for " +
             (t.local_steps <= 0 ? std::string("uncapped") : std::to_string(t.local_steps)) +
             " local steps; the plan allows " + std::to_string(cap);
    }
  }
  if (static_cast<uint64_t>(t.batch_size) != p["batch_size"].get<uint64_t>()) {
    return "batch size " + std::to_string(t.batch_size) + " is not the plan's " +
           p["batch_size"].dump();
  }
  const std::pair<const char*, double> numbers[] = {{"momentum", t.momentum},
                                                    {"weight_decay", t.weight_decay},
                                                    {"bn_momentum", t.bn_momentum},
                                                    {"fedprox_mu", t.fedprox_mu},
                                                    {"logit_adjustment", t.logit_adjustment}};
  for (const auto& [key, value] : numbers) {
    if (!p.contains(key) || !p[key].is_number() || !Same(value, p[key].get<double>())) {
      return std::string("train.") + key + " " + Num(value) + " is not the plan's " +
             (p.contains(key) ? p[key].dump() : "(absent)");
    }
  }
  // Plans from before the pooled prior say nothing and meant a balanced one.
  const bool plan_pooled = p.contains("logit_adjustment_prior") &&
                           p["logit_adjustment_prior"] == json("pooled");
  if (!class_prior.empty() && !plan_pooled) {
    return "task sends a pooled class prior; the plan's logit adjustment is balanced";
  }
  // Plans that do not name it meant a fresh optimizer every round.
  const std::string plan_state =
      p.contains("optimizer_state") && p["optimizer_state"].is_string()
          ? p["optimizer_state"].get<std::string>()
          : std::string("fresh");
  if (t.optimizer_state != plan_state) {
    return "task keeps optimizer state '" + t.optimizer_state + "'; the plan says '" + plan_state +
           "'";
  }
  if (!p.contains("class_weights") || p["class_weights"] != json(t.class_weights)) {
    return "train.class_weights differs from the plan";
  }
  const AugmentConfig& a = t.augment;
  const json augment = {{"hflip", a.hflip},           {"vflip", a.vflip},
                        {"rot90", a.rot90},           {"rotate_deg", a.rotate_deg},
                        {"zoom", a.zoom},             {"translate", a.translate},
                        {"brightness", a.brightness}, {"contrast", a.contrast},
                        {"hue", a.hue},               {"cutmix", a.cutmix}};
  if (!p.contains("augment") || p["augment"] != augment) {
    return "augmentation differs from the plan";
  }
  return "";
}

}  // namespace

std::string CheckTrainTask(const TrainingPlan& plan, const wire::TrainTask& task) {
  const json& p = plan.doc;
  std::string why = CheckModel(p, task.round, task.arch, task.num_classes, task.input_size,
                               task.class_names);
  if (!why.empty()) return why;
  const std::string down = p["codec_down"].get<std::string>();
  if (task.model.codec != down) {
    return "model arrives as " + task.model.codec + "; the plan's downlink is " + down;
  }
  const std::string& up = task.codec_up;
  if (up != p["codec_up"].get<std::string>()) {
    return "task asks for uplink codec " + up + "; the plan's is " +
           p["codec_up"].get<std::string>();
  }
  if (p.contains("latent_start") &&
      task.latent_start != p["latent_start"].get<std::string>()) {
    return "task's latent_start differs from the plan";
  }
  if (p.contains("latent_epsilon") &&
      !Same(task.latent_epsilon, p["latent_epsilon"].get<double>())) {
    return "task's latent_epsilon differs from the plan";
  }
  // Plans that do not name it meant epsilon (and plans without a sign1 downlink ignore it).
  if (p.contains("latent_start")) {
    const std::string plan_flip = p.contains("latent_flip") && p["latent_flip"].is_string()
                                      ? p["latent_flip"].get<std::string>()
                                      : std::string("epsilon");
    if (task.latent_flip != plan_flip) {
      return "task's latent_flip '" + task.latent_flip + "' is not the plan's '" + plan_flip +
             "'";
    }
  }
  const bool secure = task.secure_aggregation;
  const std::string mode = p["secure_aggregation"]["mode"].get<std::string>();
  if (mode != "off" && !secure) {
    return "task asks for a plain update, but the plan requires secure aggregation (" + mode + ")";
  }
  if (mode == "off" && secure) {
    return "task asks for secure aggregation, which the plan does not use";
  }
  return CheckTrainSettings(p["train"], task.train, task.class_prior);
}

std::string CheckEvaluateTask(const TrainingPlan& plan, const wire::EvaluateTask& task) {
  // Under secure aggregation a site's statistics would reach the coordinator in the clear: never,
  // whatever else the plan says.
  const bool secure = plan.doc["secure_aggregation"]["mode"].get<std::string>() != "off";
  if (secure && task.bn_calibration_images > 0) {
    return "task asks for batch-norm statistics, which would leave the site unmasked in a "
           "secure-aggregation plan";
  }
  const uint64_t allowed = plan.doc.value("bn_recalibration_images", uint64_t{0});
  if (task.bn_calibration_images > allowed) {
    return "task asks for batch-norm statistics of " + std::to_string(task.bn_calibration_images) +
           " images; the plan allows " + std::to_string(allowed);
  }
  if (!plan.doc["federated_evaluation"].get<bool>() && task.bn_calibration_images == 0) {
    return "the plan has no federated evaluation";
  }
  return CheckModel(plan.doc, task.round, task.arch, task.num_classes, task.input_size,
                    task.class_names);
}

std::string CheckSecAggSetup(const TrainingPlan& plan, const wire::SecAggSetup& setup) {
  const json& s = plan.doc["secure_aggregation"];
  if (s["mode"] == "off") return "secure aggregation setup, but the plan does not use it";
  if (setup.round > plan.doc["rounds"].get<uint64_t>()) return "round beyond the plan's rounds";
  auto fixed = [&](const char* key, double value) {
    return !s.contains(key) || !s[key].is_number() || Same(value, s[key].get<double>());
  };
  if (!fixed("clip", setup.clip) || !fixed("stat_clip", setup.stat_clip)) {
    return "secure aggregation clip differs from the plan";
  }
  if (s.value("threshold", uint64_t{0}) > 0 && setup.threshold != s["threshold"].get<uint64_t>()) {
    return "secure aggregation threshold " + std::to_string(setup.threshold) +
           " is not the plan's " + s["threshold"].dump();
  }
  if (s.value("neighbours", uint64_t{0}) > 0 &&
      setup.neighbours != s["neighbours"].get<uint64_t>()) {
    return "secure aggregation neighbour count differs from the plan";
  }
  return "";
}

}  // namespace fedsmear
