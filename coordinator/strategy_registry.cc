#include "coordinator/strategy_registry.h"

#include <cmath>
#include <sstream>

#include "models/codec.h"
#include "models/packed_model.h"

namespace fedsmear {

// Each strategy's entry, defined in its own file. A new strategy adds its name here and below.
StrategyEntry FedAvgEntry(), FedProxEntry(), FedAdamEntry(), FedVoteEntry(), FedAvgMEntry();

const std::vector<StrategyEntry>& Strategies() {
  static const std::vector<StrategyEntry> all = {FedVoteEntry(), FedAvgEntry(), FedProxEntry(),
                                                 FedAdamEntry(), FedAvgMEntry()};
  return all;
}

const StrategyEntry* FindStrategy(std::string_view name) {
  for (const StrategyEntry& e : Strategies()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::string StrategyNameList() {
  std::string out;
  for (const StrategyEntry& e : Strategies()) out += (out.empty() ? "" : " | ") + e.name;
  return out;
}

std::string StrategyHelp() {
  std::ostringstream o;
  for (const StrategyEntry& e : Strategies()) {
    o << "  " << e.name << ": " << e.help << "\n";
    for (const ParamSpec& p : e.params) {
      o << "    strategy_params." << p.key << " (default " << p.default_value << ", "
        << p.min << ".." << p.max << "): " << p.help << "\n";
    }
  }
  return o.str();
}

Result<double> StrategyParams::Get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    return Internal("strategy parameter " + std::string(key) + " is not declared");
  }
  return it->second;
}

Result<StrategyParams> ResolveStrategyParams(const StrategyEntry& entry,
                                             const std::map<std::string, double>& given) {
  std::map<std::string, double, std::less<>> values;
  for (const ParamSpec& p : entry.params) values[p.key] = p.default_value;
  for (const auto& [key, value] : given) {
    const ParamSpec* spec = nullptr;
    for (const ParamSpec& p : entry.params) {
      if (p.key == key) spec = &p;
    }
    if (!spec) {
      std::string known;
      for (const ParamSpec& p : entry.params) known += (known.empty() ? "" : ", ") + p.key;
      return InvalidArgument("strategy_params." + key + ": strategy " + entry.name +
                             (known.empty() ? " takes no parameters" : " takes " + known));
    }
    if (!(std::isfinite(value) && value >= spec->min && value <= spec->max)) {
      std::ostringstream range;
      range << "[" << spec->min << ", " << spec->max << "]";
      return InvalidArgument("strategy_params." + key + ": must be in " + range.str());
    }
    values[key] = value;
  }
  return StrategyParams(std::move(values));
}

Result<std::map<std::string, double>> GivenStrategyParams(const StrategyEntry& entry,
                                                          const CoordinatorConfig& config) {
  std::map<std::string, double> given = config.strategy_params;
  for (const auto& [key, value] : config.legacy_strategy_keys) {
    for (const ParamSpec& p : entry.params) {
      if (p.key != key || !p.top_level_alias) continue;
      if (given.count(key)) {
        return InvalidArgument(key + " is given twice: at the top level and as strategy_params." +
                               key + " (keep the second)");
      }
      given[key] = value;
    }
  }
  return given;
}

Status CheckStrategyConfig(const CoordinatorConfig& config) {
  const StrategyEntry* entry = FindStrategy(config.strategy);
  if (!entry) {
    return InvalidArgument("strategy: '" + config.strategy + "' is not one of " +
                           StrategyNameList());
  }
  ASSIGN_OR_RETURN(auto given, GivenStrategyParams(*entry, config));
  RETURN_IF_ERROR(ResolveStrategyParams(*entry, given).status());
  return CheckStrategyFits(*entry, config.secure_aggregation);
}

Status CheckStrategyFits(const StrategyEntry& entry, SecureAggregation mode) {
  if (entry.needs == StrategyNeeds::kIndividualUpdates && mode != SecureAggregation::kOff) {
    return FailedPrecondition("strategy " + entry.name + " needs each site's update, and "
                              "secure_aggregation " + std::string(settings::NameOf(mode)) +
                              " reveals only their sum: choose a strategy that works on sums "
                              "or secure_aggregation: off");
  }
  return Status::Ok();
}

Status CheckRegisteredChoices(const CoordinatorConfig& config) {
  RETURN_IF_ERROR(CheckStrategyConfig(config));
  if (!ParseDownlinkCodec(config.codec_down).ok()) {
    return InvalidArgument("codec_down: '" + config.codec_down + "' is not one of " +
                           DownlinkCodecList());
  }
  if (!ParseCodecSpec(config.codec_up).ok()) {
    return InvalidArgument("codec_up: '" + config.codec_up + "' is not one of " +
                           UplinkCodecList() + " (see models/codec.h)");
  }
  return Status::Ok();
}

std::string DownlinkCodecList() {
  std::string out;
  for (const std::string& name : DownlinkCodecNames()) out += (out.empty() ? "" : " | ") + name;
  return out;
}

std::string UplinkCodecList() {
  std::string out;
  for (const CodecSpec& spec : AllCodecSpecs()) {
    out += (out.empty() ? "" : " | ") + CodecSpecName(spec);
  }
  for (const FrameCodec* frame : Codecs().ListFrames(CodecDirection::kUplink)) {
    out += ", each also +" + frame->name;
  }
  return out;
}

Result<std::unique_ptr<Strategy>> MakeStrategy(const CoordinatorConfig& config) {
  RETURN_IF_ERROR(CheckStrategyConfig(config));
  const StrategyEntry& entry = *FindStrategy(config.strategy);
  ASSIGN_OR_RETURN(auto given, GivenStrategyParams(entry, config));
  ASSIGN_OR_RETURN(StrategyParams params, ResolveStrategyParams(entry, given));
  return entry.make(config, params);
}

}  // namespace fedsmear
