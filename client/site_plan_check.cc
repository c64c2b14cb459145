// Whether a task stays inside the approved training plan (client/site_plan.h).
#include <cmath>
#include <cstdlib>

#include "client/site_plan.h"
#include "common/settings/settings_plan.h"
#include "models/bn_statistics.h"

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
  // The learning rate moves with the schedule: the plan names its range (plan.cc).
  if (!p.contains("lr_min") || !p.contains("lr_max")) return "the plan names no learning rate";
  const double lo = p["lr_min"].get<double>(), hi = p["lr_max"].get<double>();
  if (!(t.learning_rate >= lo * (1 - 1e-9) && t.learning_rate <= hi * (1 + 1e-9))) {
    return "learning rate " + Num(t.learning_rate) + " is outside the plan's [" + Num(lo) + ", " +
           Num(hi) + "]";
  }
  // Every other setting the task carries, by its description (common/train_config.h).
  std::string why = settings::CheckAgainstPlan(t, p, "train.");
  if (!why.empty()) return why;
  // The prior travels as the task's class_prior; plans from before the pooled prior say nothing
  // and meant a balanced one.
  const bool plan_pooled = p.contains("logit_adjustment_prior") &&
                           p["logit_adjustment_prior"] == json("pooled");
  if (!class_prior.empty() && !plan_pooled) {
    return "task sends a pooled class prior; the plan's logit adjustment is balanced";
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
      settings::NameOf(task.latent_start) != p["latent_start"].get<std::string>()) {
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
    if (settings::NameOf(task.latent_flip) != plan_flip) {
      return "task's latent_flip '" + std::string(settings::NameOf(task.latent_flip)) +
             "' is not the plan's '" + plan_flip +
             "'";
    }
  }
  const bool secure = task.secure_aggregation;
  const SecureAggregation plan_mode = PlanSecureMode(plan);
  const std::string mode = settings::NameOf(plan_mode);
  if (plan_mode != SecureAggregation::kOff && !secure) {
    return "task asks for a plain update, but the plan requires secure aggregation (" + mode + ")";
  }
  if (plan_mode == SecureAggregation::kOff && secure) {
    return "task asks for secure aggregation, which the plan does not use";
  }
  return CheckTrainSettings(p["train"], task.train, task.class_prior);
}

std::string CheckEvaluateTask(const TrainingPlan& plan, const wire::EvaluateTask& task) {
  // Under secure aggregation a site's statistics go into a SecAgg+ session, never in the clear,
  // whatever else the plan says.
  const bool secure = PlanSecureMode(plan) != SecureAggregation::kOff;
  if (secure && task.bn_calibration_images > 0 && !task.secure_aggregation) {
    return "task asks for batch-norm statistics, which would leave the site unmasked in a "
           "secure-aggregation plan";
  }
  if (!secure && task.secure_aggregation) {
    return "task asks for secure aggregation, which the plan does not use";
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
  if (PlanSecureMode(plan) == SecureAggregation::kOff) {
    return "secure aggregation setup, but the plan does not use it";
  }
  if (setup.round > plan.doc["rounds"].get<uint64_t>()) return "round beyond the plan's rounds";
  if (setup.purpose == wire::SecAggPurpose::kBnStatistics) {
    // The statistics' own session: as many images as the plan's recalibration, at the
    // protocol's clip for normalised moments (models/bn_statistics.h).
    const uint64_t allowed = plan.doc.value("bn_recalibration_images", uint64_t{0});
    if (allowed == 0) return "batch-norm statistics session, but the plan does not recalibrate";
    if (setup.weight_cap > allowed) {
      return "batch-norm statistics of " + std::to_string(setup.weight_cap) +
             " images per site; the plan allows " + std::to_string(allowed);
    }
    if (!Same(setup.clip, kBnMomentClip) || !Same(setup.stat_clip, kBnMomentClip)) {
      return "batch-norm statistics clip differs from the protocol's";
    }
  } else {
    auto fixed = [&](const char* key, double value) {
      return !s.contains(key) || !s[key].is_number() || Same(value, s[key].get<double>());
    };
    if (!fixed("clip", setup.clip) || !fixed("stat_clip", setup.stat_clip)) {
      return "secure aggregation clip differs from the plan";
    }
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
