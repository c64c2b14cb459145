#include "common/governance/plan.h"

#include <algorithm>
#include <sstream>

#include "common/settings/settings_plan.h"
#include "common/sha256.h"

namespace fedsmear {
namespace {

using nlohmann::json;

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

TrainingPlan MakePlan(const CoordinatorConfig& c, const PlanFacts& facts) {
  // Every setting the descriptions mark (common/config.h, common/train_config.h), then the
  // entries derived from several settings.
  json doc = json::object();
  std::vector<std::string> groups;
  if (facts.downlink_signs) groups.push_back(kSignDownlinkGroup);
  settings::WritePlanEntries(c, &doc, groups);
  doc["format"] = kPlanFormat;
  // The coordinator's schedule moves the rate between min(min_lr, lr) and lr (lr_schedule.cc).
  const double lr = c.train.learning_rate;
  const bool decays = c.lr_schedule.kind != LrScheduleKind::kConstant;
  doc["train"]["lr_max"] = lr;
  doc["train"]["lr_min"] = decays ? std::min(c.lr_schedule.min_lr, lr) : lr;
  doc["train"]["lr_schedule"] = settings::NameOf(c.lr_schedule.kind);
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
  if (!settings::ParseEnum<SecureAggregation>(
          plan.doc["secure_aggregation"]["mode"].get<std::string>())) {
    return Corrupt("plan's secure_aggregation.mode is not one of " +
                   settings::EnumList<SecureAggregation>());
  }
  if (plan.doc["format"] != kPlanFormat) {
    return Corrupt("plan format " + plan.doc["format"].get<std::string>() + " is not " +
                   kPlanFormat);
  }
  plan.bytes = bytes;
  plan.hash = PlanHash(bytes);
  return plan;
}

SecureAggregation PlanSecureMode(const TrainingPlan& plan) {
  const json& mode = plan.doc["secure_aggregation"]["mode"];
  const auto parsed =
      mode.is_string() ? settings::ParseEnum<SecureAggregation>(mode.get<std::string>())
                       : std::nullopt;
  return parsed.value_or(SecureAggregation::kSecAggPlus);  // never reached for a parsed plan
}

std::string PlanDifference(const TrainingPlan& before, const TrainingPlan& after) {
  if (before.hash == after.hash) return "";
  const nlohmann::json a = before.doc.flatten(), b = after.doc.flatten();
  std::ostringstream out;
  auto it = a.begin();
  auto jt = b.begin();
  // Both are objects with sorted keys: walk them together.
  while (it != a.end() || jt != b.end()) {
    if (jt == b.end() || (it != a.end() && it.key() < jt.key())) {
      out << "  - " << it.key() << ": " << it.value().dump() << "\n";
      ++it;
    } else if (it == a.end() || jt.key() < it.key()) {
      out << "  + " << jt.key() << ": " << jt.value().dump() << "\n";
      ++jt;
    } else {
      if (it.value() != jt.value()) {
        out << "  " << it.key() << ": " << it.value().dump() << " -> " << jt.value().dump()
            << "\n";
      }
      ++it;
      ++jt;
    }
  }
  return out.str();
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
