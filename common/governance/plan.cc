#include "common/governance/plan.h"

#include <algorithm>
#include <sstream>

#include "common/sha256.h"

namespace fedsmear {
namespace {

using nlohmann::json;

json AugmentJson(const AugmentConfig& a) {
  return {{"hflip", a.hflip},           {"vflip", a.vflip},         {"rot90", a.rot90},
          {"rotate_deg", a.rotate_deg}, {"zoom", a.zoom},           {"translate", a.translate},
          {"brightness", a.brightness}, {"contrast", a.contrast},   {"hue", a.hue},
          {"cutmix", a.cutmix}};
}

// The fields a site's checks read, with their JSON types.
struct Field {
  const char* section;  // "" = top level
  const char* name;
  json::value_t type;
};
constexpr json::value_t kStr = json::value_t::string;
constexpr json::value_t kNum = json::value_t::number_float;
constexpr json::value_t kInt = json::value_t::number_unsigned;
constexpr json::value_t kBool = json::value_t::boolean;
const Field kRequired[] = {
    {"", "format", kStr},           {"", "rounds", kInt},
    {"", "strategy", kStr},         {"", "codec_down", kStr},
    {"", "codec_up", kStr},         {"", "federated_evaluation", kBool},
    {"model", "arch", kStr},        {"model", "classes", kInt},
    {"model", "input_size", kInt},  {"train", "optimizer", kStr},
    {"train", "lr_max", kNum},      {"train", "lr_min", kNum},
    {"train", "local_epochs", kInt}, {"train", "batch_size", kInt},
    {"secure_aggregation", "mode", kStr},
};

bool TypeMatches(const json& v, json::value_t want) {
  if (want == kNum) return v.is_number();
  if (want == kInt) {
    return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
  }
  return v.type() == want;
}

std::string Show(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  auto is_string = [](const json& e) { return e.is_string(); };
  if (v.is_array() && std::all_of(v.begin(), v.end(), is_string)) {
    std::string out;
    for (const json& e : v) out += (out.empty() ? "" : ", ") + e.get<std::string>();
    return out;
  }
  return v.dump();
}

}  // namespace

std::string PlanHash(const std::string& bytes) { return ToHex(Sha256Of(bytes)); }

TrainingPlan MakePlan(const CoordinatorConfig& c) {
  json doc;
  doc["format"] = kPlanFormat;
  doc["rounds"] = static_cast<unsigned>(c.rounds);
  doc["strategy"] = c.strategy;
  if (c.strategy == "fedadam") doc["server_lr"] = c.server_lr;
  if (!c.strategy_params.empty()) doc["strategy_params"] = c.strategy_params;
  doc["codec_down"] = c.codec_down;
  doc["codec_up"] = c.codec_up;
  if (c.codec_down.rfind("sign1", 0) == 0) {
    doc["latent_start"] = c.latent_start;
    doc["latent_epsilon"] = c.latent_epsilon;
    // Named only when not the old behaviour, so that earlier plans keep their hashes.
    if (c.latent_flip != "epsilon") doc["latent_flip"] = c.latent_flip;
  }
  doc["federated_evaluation"] = c.federated_evaluation;
  if (c.bn_recalibration_images > 0 && c.secure_aggregation == "off") {
    doc["bn_recalibration_images"] = static_cast<unsigned>(c.bn_recalibration_images);
  }
  doc["model"] = {{"arch", c.model.arch},
                  {"classes", static_cast<unsigned>(c.model.classes)},
                  {"class_names", c.model.class_names},
                  {"input_size", static_cast<unsigned>(c.model.input_size)}};
  doc["preprocess"] = {{"resize", c.preprocess.resize},
                       {"center_crop", c.preprocess.center_crop},
                       {"mean", c.preprocess.mean},
                       {"std", c.preprocess.std}};
  const TrainConfig& t = c.train;
  // The coordinator's schedule moves the rate between min(min_lr, lr) and lr (lr_schedule.cc).
  const bool decays = c.lr_schedule.kind != "constant";
  doc["train"] = {{"optimizer", t.optimizer},
                  {"lr_max", t.learning_rate},
                  {"lr_min", decays ? std::min(c.lr_schedule.min_lr, t.learning_rate)
                                    : t.learning_rate},
                  {"lr_schedule", c.lr_schedule.kind},
                  {"momentum", t.momentum},
                  {"weight_decay", t.weight_decay},
                  {"local_epochs", static_cast<unsigned>(t.local_epochs)},
                  {"batch_size", static_cast<unsigned>(t.batch_size)},
                  {"class_weights", t.class_weights},
                  {"bn_momentum", t.bn_momentum},
                  {"fedprox_mu", t.fedprox_mu},
                  {"logit_adjustment", t.logit_adjustment},
                  {"logit_adjustment_prior", t.logit_adjustment_prior},
                  {"augment", AugmentJson(t.augment)}};
  // Named only when set, so that plans of runs without a cap keep their hashes.
  if (t.local_steps > 0) doc["train"]["local_steps"] = static_cast<unsigned>(t.local_steps);
  if (t.optimizer_state != "fresh") doc["train"]["optimizer_state"] = t.optimizer_state;
  json secure = {{"mode", c.secure_aggregation}};
  if (c.secure_aggregation != "off") {
    secure["threshold"] = static_cast<unsigned>(c.secagg_threshold);
    secure["neighbours"] = static_cast<unsigned>(c.secagg_neighbours);
    secure["clip"] = c.secagg_clip;
    secure["stat_clip"] = c.secagg_stat_clip;
  }
  doc["secure_aggregation"] = secure;
  TrainingPlan plan;
  plan.bytes = doc.dump();  // std::map keys: sorted; no indent: no whitespace
  plan.hash = PlanHash(plan.bytes);
  plan.doc = std::move(doc);
  return plan;
}

Result<TrainingPlan> ParsePlan(const std::string& bytes) {
  TrainingPlan plan;
  plan.doc = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (plan.doc.is_discarded() || !plan.doc.is_object()) return Corrupt("plan is not a JSON object");
  if (plan.doc.dump() != bytes) return Corrupt("plan is not in canonical form");
  for (const Field& f : kRequired) {
    const json* v = &plan.doc;
    if (*f.section != '\0') {
      if (!plan.doc.contains(f.section) || !plan.doc[f.section].is_object()) {
        return Corrupt(std::string("plan has no section ") + f.section);
      }
      v = &plan.doc[f.section];
    }
    if (!v->contains(f.name) || !TypeMatches((*v)[f.name], f.type)) {
      return Corrupt(std::string("plan field ") + f.section + (*f.section ? "." : "") + f.name +
                     " is missing or mistyped");
    }
  }
  if (plan.doc["format"] != kPlanFormat) {
    return Corrupt("plan format " + plan.doc["format"].get<std::string>() + " is not " +
                   kPlanFormat);
  }
  plan.bytes = bytes;
  plan.hash = PlanHash(bytes);
  return plan;
}

std::string DescribePlan(const TrainingPlan& plan) {
  std::ostringstream out;
  out << "training plan " << plan.hash << " (" << plan.bytes.size() << " bytes, "
      << plan.doc.value("format", "?") << ")\n";
  // Top-level settings first, then one block per section, in the canonical (sorted) order.
  for (const auto& [key, value] : plan.doc.items()) {
    if (value.is_object() || key == "format") continue;
    out << "  " << key << ": " << Show(value) << "\n";
  }
  for (const auto& [key, value] : plan.doc.items()) {
    if (!value.is_object()) continue;
    out << "  " << key << ":\n";
    for (const auto& [k, v] : value.items()) {
      if (v.is_object()) {
        std::string inner;
        for (const auto& [ik, iv] : v.items()) {
          inner += (inner.empty() ? "" : ", ") + ik + "=" + Show(iv);
        }
        out << "    " << k << ": " << inner << "\n";
      } else {
        out << "    " << k << ": " << Show(v) << "\n";
      }
    }
  }
  return out.str();
}

}  // namespace fedsmear
