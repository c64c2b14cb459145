// aggregate_memory: the coordinator's peak memory while it aggregates one FedAvg round of N
// bdn28-size updates. Torch-free.
//
//   aggregate_memory --sites N [--codec-up f32] [--codec-down f32]
//
// Mirrors coordinator/round.cc: the global model (bdn28, 8 classes, 64 px, laid out from
// models/arch.h: 4,202,496 binary + 356,616 float + 19,008 BN-stat values), its packed
// downlink and the unpacked copy updates are decoded against, one WeightedAccumulator; then for
// each of N sites an update is generated (global + a small step), encoded with the uplink codec
// (EncodeUpdate, as the site sends it), the state dropped, the bytes decoded (DecodeUpdate),
// added and discarded; finally the weighted mean is taken. Peaks are read from
// getrusage(RUSAGE_SELF).ru_maxrss and /proc/self/status VmHWM, after setup and at the end, so
// run each N in a fresh process (peaks never go down). Output: one JSON object on stdout;
// errors on stderr with exit code 1. Single-threaded.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/config.h"
#include "coordinator/aggregate.h"
#include "models/arch.h"
#include "models/codec.h"
#include "models/packed_model.h"

namespace fedsmear {
namespace {

using Json = nlohmann::ordered_json;

constexpr int64_t kBdn28Binary = 4202496, kBdn28Float = 356616, kBdn28Stat = 19008;

// The tensors models/densenet.cc builds for `arch` at `input_size` (input >= 50 px stem), in
// the same roles; values zero.
Result<ModelState> Layout(const std::string& arch_name, int classes, int input_size) {
  ASSIGN_OR_RETURN(ArchSpec arch, FindArch(arch_name));
  ModelState s;
  s.meta = {arch_name, classes, input_size, {}};
  for (int c = 0; c < classes; ++c) s.meta.class_names.push_back("class" + std::to_string(c));
  std::vector<NamedTensor> stats;
  auto add = [&s](const std::string& name, std::vector<int64_t> shape, TensorKind kind) {
    const int64_t n = NumElements(shape);
    s.tensors.push_back({name, std::move(shape), kind, std::vector<float>(static_cast<size_t>(n))});
  };
  auto bn = [&add, &stats](const std::string& name, int channels) {
    add(name + ".weight", {channels}, TensorKind::kFloat);
    add(name + ".bias", {channels}, TensorKind::kFloat);
    for (const char* stat : {".running_mean", ".running_var"}) {
      stats.push_back({name + stat,
                       {channels},
                       TensorKind::kStat,
                       std::vector<float>(static_cast<size_t>(channels))});
    }
  };
  int channels = arch.initial_filters;
  const int stem_kernel = SmallInputStem(input_size) ? 3 : 7;
  add("stem.conv.weight", {channels, 3, stem_kernel, stem_kernel}, TensorKind::kFloat);
  if (!SmallInputStem(input_size)) bn("stem.bn", channels);
  for (size_t b = 0; b < arch.layers.size(); ++b) {
    for (int i = 0; i < arch.layers[b]; ++i) {
      const std::string layer = "block" + std::to_string(b + 1) + ".layer" + std::to_string(i + 1);
      bn(layer + ".bn", channels);
      add(layer + ".conv.weight", {arch.growth, channels, 3, 3},
          arch.binary ? TensorKind::kBinary : TensorKind::kFloat);
      channels += arch.growth;
    }
    if (b + 1 < arch.layers.size()) {
      const std::string trans = "trans" + std::to_string(b + 1);
      const int out = TransitionChannels(channels, arch.reductions[b]);
      bn(trans + ".bn", channels);
      add(trans + ".conv.weight", {out, channels, 1, 1}, TensorKind::kFloat);
      channels = out;
    }
  }
  bn("head.bn", channels);
  add("head.fc.weight", {classes, channels}, TensorKind::kFloat);
  add("head.fc.bias", {classes}, TensorKind::kFloat);
  for (NamedTensor& t : stats) s.tensors.push_back(std::move(t));
  return s;
}

// Fills every value with a deterministic pseudo-random number in [-a, a] around `base`.
void Perturb(const ModelState& base, uint64_t seed, float a, ModelState* out) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t t = 0; t < base.tensors.size(); ++t) {
    const std::vector<float>& from = base.tensors[t].values;
    std::vector<float>& to = out->tensors[t].values;
    for (size_t i = 0; i < from.size(); ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      to[i] = from[i] + a * (static_cast<float>(x >> 40) / 8388608.f - 1.f);
    }
  }
}

struct Peaks {
  int64_t ru_maxrss_kb = 0;
  int64_t vm_hwm_kb = 0;
  int64_t vm_rss_kb = 0;
};

Peaks ReadPeaks() {
  Peaks p;
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) p.ru_maxrss_kb = usage.ru_maxrss;  // KiB on Linux
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") status >> p.vm_hwm_kb;
    if (key == "VmRSS:") status >> p.vm_rss_kb;
  }
  return p;
}

Json ToJson(const Peaks& p) {
  return Json{
      {"ru_maxrss_kb", p.ru_maxrss_kb}, {"vm_hwm_kb", p.vm_hwm_kb}, {"vm_rss_kb", p.vm_rss_kb}};
}

Result<Json> Run(int sites, const std::string& codec_down, const std::string& codec_up) {
  using Clock = std::chrono::steady_clock;
  ASSIGN_OR_RETURN(CodecSpec up_spec, ParseCodecSpec(codec_up));
  ASSIGN_OR_RETURN(const PackOptions down, ParseDownlinkCodec(codec_down));
  ASSIGN_OR_RETURN(ModelState global, Layout("bdn28", 8, 64));
  if (global.NumValues(TensorKind::kBinary) != kBdn28Binary ||
      global.NumValues(TensorKind::kFloat) != kBdn28Float ||
      global.NumValues(TensorKind::kStat) != kBdn28Stat) {
    return Internal("bdn28 layout has the wrong sizes");
  }
  ModelState zero = global;
  Perturb(zero, 0, 0.1f, &global);
  const std::string downlink = PackModel(global, down);
  ASSIGN_OR_RETURN(ModelState received, UnpackModel(downlink));
  zero = ModelState{};
  WeightedAccumulator acc(global);
  const Peaks setup = ReadPeaks();

  const auto start = Clock::now();
  uint64_t upload_bytes = 0;
  for (int site = 1; site <= sites; ++site) {
    std::string bytes;
    {
      ModelState trained = received;  // a site trains from what it received
      Perturb(received, static_cast<uint64_t>(site), 0.01f, &trained);
      bytes = EncodeUpdate(trained, &received, up_spec, static_cast<uint64_t>(site));
    }
    upload_bytes = bytes.size();
    ASSIGN_OR_RETURN(ModelState update, DecodeUpdate(bytes, received));
    bytes.clear();
    bytes.shrink_to_fit();
    RETURN_IF_ERROR(acc.Add(update, 100.0 + site));
  }
  ASSIGN_OR_RETURN(ModelState mean, acc.Mean());
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const Peaks end = ReadPeaks();
  if (acc.count() != sites || mean.tensors.size() != global.tensors.size()) {
    return Internal("accumulator lost updates");
  }

  Json j;
  j["sites"] = sites;
  j["arch"] = "bdn28";
  j["values"] = global.NumValues();
  j["float_state_bytes"] = 4 * global.NumValues();
  j["codec_down"] = codec_down;
  j["codec_up"] = codec_up;
  j["downlink_bytes"] = downlink.size();
  j["update_bytes"] = upload_bytes;
  j["after_setup"] = ToJson(setup);
  j["peak"] = ToJson(end);
  j["aggregation_growth_kb"] = end.vm_hwm_kb - setup.vm_hwm_kb;
  j["seconds"] = seconds;
  j["seconds_per_update"] = seconds / sites;
  return j;
}

}  // namespace
}  // namespace fedsmear

int main(int argc, char** argv) {
  using namespace fedsmear;  // NOLINT: main only
  const CoordinatorConfig defaults;
  CLI::App app{"coordinator peak memory while aggregating N bdn28 updates"};
  int sites = 10;
  std::string codec_down = defaults.codec_down, codec_up = defaults.codec_up;
  app.add_option("--sites", sites, "updates to aggregate")->check(CLI::Range(1, 100000));
  app.add_option("--codec-down", codec_down, "downlink (f32 | f32+f16 | sign1 | sign1+f16; default: coordinator's)");
  app.add_option("--codec-up", codec_up, "uplink codec (default: coordinator's)");
  CLI11_PARSE(app, argc, argv);
  Result<nlohmann::ordered_json> r = Run(sites, codec_down, codec_up);
  if (!r.ok()) {
    std::cerr << "aggregate_memory: " << r.status() << "\n";
    return 1;
  }
  std::cout << r.value().dump(2) << "\n";
  return 0;
}
