// bytes_bench: bytes per round per site that the model payloads of a federated round take, for
// bdn28 and bdn45 (8 classes, 64 px), measured by actually packing and encoding real states.
//
//   bytes_bench [--archs bdn28,bdn45] [--classes 8] [--size 64]
//
//   downlink  PackModel of the global model (models/packed_model.h):
//               every codec_down value (ParseDownlinkCodec): f32, f32+f16, sign1, sign1+f16
//   uplink    EncodeUpdate of a trained state against the global for every AllCodecSpecs() entry
//             (each size is also checked against EncodedUpdateSize).
//   secure    the SecAgg+ input a site masks (secagg/site_secagg.h SecureVectorLength, 4 bytes a
//             word) in the default's sign-vote rounds of 3, 4 and 10 sites (equal vote weights,
//             secagg/votes.h), with the default downlink.
//   per round per site = downlink + uplink. Compared: float FedAvg (f32 down + f32 up), the
//   coordinator's defaults (CoordinatorConfig::codec_down / codec_up in common/config.h), the
//   smallest pair that codec_down/codec_up can select, and the smallest pair overall; each with
//   ratio = float FedAvg bytes / its bytes (16 means 1/16 of float FedAvg).
//
// Payload bytes only: the Cap'n Proto envelope and ZeroMQ framing add a few hundred bytes per
// message (see fedsmear simulate's metrics.jsonl for wire bytes). Output: one JSON object on
// stdout; errors on stderr with exit code 1. Single-threaded.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/config.h"
#include "models/codec.h"
#include "models/densenet.h"
#include "models/packed_model.h"
#include "secagg/site_secagg.h"
#include "secagg/votes.h"

namespace fedsmear {
namespace {

using Json = nlohmann::ordered_json;

struct Downlink {
  std::string name;
  PackOptions options;
  bool selectable = false;  // a value of CoordinatorConfig::codec_down
};

std::vector<Downlink> Downlinks() {
  std::vector<Downlink> out;
  for (const std::string& name : DownlinkCodecNames()) {
    out.push_back({name, *ParseDownlinkCodec(name), true});
  }
  return out;
}

// A "trained" copy of `global`: every value moved by a small deterministic step.
ModelState Trained(const ModelState& global) {
  ModelState t = global;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (NamedTensor& tensor : t.tensors) {
    for (float& v : tensor.values) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      v += 0.01f * (static_cast<float>(x >> 40) / 8388608.f - 1.f);
    }
  }
  return t;
}

Json Pair(const std::string& down, uint64_t down_bytes, const std::string& up, uint64_t up_bytes,
          uint64_t float_total) {
  const uint64_t total = down_bytes + up_bytes;
  return Json{{"down_codec", down},
              {"up_codec", up},
              {"down_bytes", down_bytes},
              {"up_bytes", up_bytes},
              {"total_bytes", total},
              {"ratio_vs_float", static_cast<double>(float_total) / static_cast<double>(total)}};
}

Result<Json> MeasureArch(const std::string& arch, int classes, int size) {
  torch::manual_seed(1);
  ASSIGN_OR_RETURN(DenseNet model, MakeModel(arch, classes, size));
  std::vector<std::string> names;
  for (int c = 0; c < classes; ++c) names.push_back("class" + std::to_string(c));
  const ModelState global = ExportState(model, names);
  const ModelState trained = Trained(global);

  Json j;
  j["arch"] = arch;
  j["values"] = {{"binary", global.NumValues(TensorKind::kBinary)},
                 {"float", global.NumValues(TensorKind::kFloat)},
                 {"stat", global.NumValues(TensorKind::kStat)}};
  j["float_state_bytes"] = 4 * global.NumValues();

  std::map<std::string, uint64_t> down, up;
  Json down_json = Json::array();
  for (const Downlink& d : Downlinks()) {
    const std::string bytes = PackModel(global, d.options);
    ASSIGN_OR_RETURN(ModelState back, UnpackModel(bytes));  // the bytes must be a valid model
    RETURN_IF_ERROR(CheckSameLayout(global, back));
    down[d.name] = bytes.size();
    down_json.push_back({{"codec", d.name}, {"bytes", bytes.size()}, {"selectable", d.selectable}});
  }
  Json up_json = Json::array();
  uint64_t seed = 1;
  for (const CodecSpec& spec : AllCodecSpecs()) {
    const std::string name = CodecSpecName(spec);
    const std::string bytes = EncodeUpdate(trained, &global, spec, seed++);
    if (bytes.size() != EncodedUpdateSize(global, spec)) {
      return Internal(name + ": encoded " + std::to_string(bytes.size()) +
                      " bytes, EncodedUpdateSize says " +
                      std::to_string(EncodedUpdateSize(global, spec)));
    }
    ASSIGN_OR_RETURN(ModelState back, DecodeUpdate(bytes, global));
    RETURN_IF_ERROR(CheckSameLayout(global, back));
    up[name] = bytes.size();
    up_json.push_back({{"codec", name}, {"bytes", bytes.size()}});
  }
  j["downlink"] = down_json;
  j["uplink"] = up_json;

  auto smallest = [](const std::map<std::string, uint64_t>& m, bool (*keep)(const std::string&)) {
    std::string best;
    uint64_t size = std::numeric_limits<uint64_t>::max();
    for (const auto& [name, bytes] : m) {
      if (keep(name) && bytes < size) {
        best = name;
        size = bytes;
      }
    }
    return best;
  };
  auto any = [](const std::string&) { return true; };
  auto selectable = [](const std::string& n) { return ParseDownlinkCodec(n).ok(); };
  const CoordinatorConfig defaults;
  if (!down.count(defaults.codec_down) || !up.count(defaults.codec_up)) {
    return Internal("default codecs " + defaults.codec_down + " / " + defaults.codec_up +
                    " are not among the measured ones");
  }
  const uint64_t float_total = down.at("f32") + up.at("f32");
  const std::string sel_down = smallest(down, selectable), min_down = smallest(down, any);
  const std::string min_up = smallest(up, any);
  j["per_round_per_site"] = {
      {"float_fedavg", Pair("f32", down.at("f32"), "f32", up.at("f32"), float_total)},
      {"default", Pair(defaults.codec_down, down.at(defaults.codec_down), defaults.codec_up,
                       up.at(defaults.codec_up), float_total)},
      {"smallest_selectable",
       Pair(sel_down, down.at(sel_down), min_up, up.at(min_up), float_total)},
      {"smallest", Pair(min_down, down.at(min_down), min_up, up.at(min_up), float_total)}};
  // The secure default (secure_aggregation secagg+ with fedvote): sign votes of equal weight in
  // fields wide enough for n voters, then one 32-bit word per other value.
  Json secure = Json::object();
  for (const size_t n : {size_t{3}, size_t{4}, size_t{10}}) {
    uint64_t votes = 0;
    for (const uint32_t w : secagg::SecureVoteWeights(n)) votes += w;
    const uint32_t bits = secagg::VoteFieldBits(votes);
    const uint64_t masked = 4 * SecureVectorLength(global, bits);
    Json row = Pair(defaults.codec_down, down.at(defaults.codec_down),
                    "secagg+ votes " + std::to_string(bits) + " bits", masked, float_total);
    secure[std::to_string(n) + "_sites"] = std::move(row);
  }
  j["per_round_per_site"]["secure_default"] = std::move(secure);
  return j;
}

}  // namespace
}  // namespace fedsmear

int main(int argc, char** argv) {
  using namespace fedsmear;  // NOLINT: main only
  CLI::App app{"bytes per round per site of each downlink/uplink codec"};
  std::vector<std::string> archs = {"bdn28", "bdn45"};
  int classes = 8, size = 64;
  app.add_option("--archs", archs, "architectures")->delimiter(',');
  app.add_option("--classes", classes, "classes")->check(CLI::Range(2, 1000));
  app.add_option("--size", size, "input side in pixels")->check(CLI::Range(16, 512));
  CLI11_PARSE(app, argc, argv);
  torch::set_num_threads(1);

  const CoordinatorConfig defaults;
  Json out;
  out["classes"] = classes;
  out["input_size"] = size;
  out["defaults"] = {{"codec_down", defaults.codec_down}, {"codec_up", defaults.codec_up}};
  out["archs"] = Json::array();
  for (const std::string& arch : archs) {
    Result<Json> r = MeasureArch(arch, classes, size);
    if (!r.ok()) {
      std::cerr << "bytes_bench: " << arch << ": " << r.status() << "\n";
      return 1;
    }
    out["archs"].push_back(std::move(r).value());
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}
