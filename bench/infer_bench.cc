// infer_bench: images/s of the torch-free binary engine (infer/engine.h) against LibTorch's
// float forward of the same BinaryDenseNet, measured paired in one process.
//
//   infer_bench [--arch bdn28,bdn45] [--size 64,96] [--batch 1,32] [--threads 1,2]
//               [--seconds 4] [--isa auto|avx512|avx2|reference] [--json]
//   For every combination: a seeded model (random weights, BN statistics from a train-mode pass)
//   in eval mode, the engine built from its ExportState, and random inputs. Rounds alternate a
//   timed LibTorch forward (NoGradGuard, torch::set_num_threads(threads)) and a timed engine
//   Forward (EngineOptions::threads = threads) until --seconds have passed, so both sides see
//   the same machine load; images/s are the median per round, the ratio is binary / torch.
//   The LibTorch side runs the model's forward functionally from its tensors (the same ops,
//   checked against forward()) so that every round also times its dense layers (BN + sign +
//   float conv of +-1 values + concatenation) apart from its float parts (stem, transitions,
//   head); the engine's rounds are timed the same way through its Profile (BN + sign packing +
//   XNOR-popcount convs vs the rest). Memory: bytes of the engine's loaded weights vs the
//   LibTorch module's parameters and buffers.
// Output: one line per combination, or a JSON array (--json). Errors on stderr, exit code 1.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "infer/engine.h"
#include "models/densenet.h"

namespace fedsmear {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Split {
  double binary_s = 0, float_s = 0;
};

// DenseNetImpl::forward in eval mode, from the module's tensors, timing dense layers apart.
torch::Tensor TorchForwardSplit(DenseNet& m, torch::Tensor x, Split* split) {
  auto p = m->named_parameters();
  auto b = m->named_buffers();
  auto bn = [&](const std::string& n, const torch::Tensor& v) {
    return torch::batch_norm(v, p[n + ".weight"], p[n + ".bias"], b[n + ".running_mean"],
                             b[n + ".running_var"], false, 0.1, 1e-5, false);
  };
  const ArchSpec& arch = m->arch();
  auto t = Clock::now();
  if (SmallInputStem(m->input_size())) {
    x = torch::conv2d(x, p["stem.conv.weight"], {}, 1, 1);
  } else {
    x = torch::conv2d(x, p["stem.conv.weight"], {}, 2, 3);
    x = torch::max_pool2d(torch::relu(bn("stem.bn", x)), 3, 2, 1);
  }
  split->float_s += Since(t);
  for (size_t blk = 0; blk < arch.layers.size(); ++blk) {
    t = Clock::now();
    const std::string bname = "block" + std::to_string(blk + 1);
    for (int i = 0; i < arch.layers[blk]; ++i) {
      const std::string l = bname + ".layer" + std::to_string(i + 1);
      torch::Tensor y = bn(l + ".bn", x);
      y = torch::conv2d(SteSign(y), SteSign(p[l + ".conv.weight"]), {}, 1, 1);
      x = torch::cat({x, y}, 1);
    }
    split->binary_s += Since(t);
    t = Clock::now();
    if (blk + 1 < arch.layers.size()) {
      const std::string tn = "trans" + std::to_string(blk + 1);
      x = torch::relu(torch::max_pool2d(bn(tn + ".bn", x), 2, 2));
      x = torch::conv2d(x, p[tn + ".conv.weight"]);
    }
    split->float_s += Since(t);
  }
  t = Clock::now();
  x = torch::relu(bn("head.bn", x)).mean({2, 3});
  x = torch::linear(x, p["head.fc.weight"], p["head.fc.bias"]);
  split->float_s += Since(t);
  return x;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Options {
  std::vector<std::string> archs = {"bdn28", "bdn45"};
  std::vector<int> sizes = {64, 96};
  std::vector<int> batches = {1, 32};
  std::vector<int> threads = {1, 2};
  double seconds = 4;
  std::string isa = "auto";
  bool json = false;
};

Result<std::optional<infer::Isa>> ParseIsa(const std::string& name) {
  if (name == "auto") return std::optional<infer::Isa>();
  for (infer::Isa isa : {infer::Isa::kReference, infer::Isa::kAvx2, infer::Isa::kAvx512}) {
    if (name == infer::IsaName(isa) || (name == "avx512" && isa == infer::Isa::kAvx512)) {
      return std::optional<infer::Isa>(isa);
    }
  }
  return InvalidArgument("unknown --isa " + name);
}

Result<nlohmann::ordered_json> RunOne(const std::string& arch, int size, int batch, int threads,
                                      double seconds, std::optional<infer::Isa> isa) {
  torch::manual_seed(1);
  ASSIGN_OR_RETURN(DenseNet model, MakeModel(arch, 8, size, /*bn_momentum=*/1.0));
  torch::NoGradGuard g;
  model->train();
  model->forward(torch::randn({4, 3, size, size}));
  model->eval();
  std::vector<std::string> names;
  for (int i = 0; i < 8; ++i) names.push_back("c" + std::to_string(i));
  ModelState state = ExportState(model, names);
  infer::EngineOptions eo;
  eo.threads = threads;
  eo.isa = isa;
  ASSIGN_OR_RETURN(infer::BinaryEngine engine, infer::BinaryEngine::FromState(state, eo));
  torch::set_num_threads(threads);
  torch::Tensor x = torch::randn({batch, 3, size, size}).contiguous();
  std::vector<float> logits(static_cast<size_t>(batch) * 8);

  // Warm-up, and the equality check that makes the comparison meaningful.
  torch::Tensor want = model->forward(x);
  engine.Forward(x.data_ptr<float>(), batch, logits.data());
  Split torch_split;
  torch::Tensor again = TorchForwardSplit(model, x, &torch_split);
  if (!torch::allclose(again, want, 1e-5, 1e-5)) return Internal("functional forward differs");
  const float max_diff =
      (want - torch::from_blob(logits.data(), {batch, 8})).abs().max().item<float>();

  std::vector<double> torch_ips, engine_ips;
  torch_split = {};
  infer::Profile prof;
  const Clock::time_point start = Clock::now();
  while (Since(start) < seconds || torch_ips.size() < 3) {
    Clock::time_point t = Clock::now();
    TorchForwardSplit(model, x, &torch_split);
    torch_ips.push_back(batch / Since(t));
    t = Clock::now();
    engine.Forward(x.data_ptr<float>(), batch, logits.data(), &prof);
    engine_ips.push_back(batch / Since(t));
  }
  const double images = static_cast<double>(torch_ips.size()) * batch;
  int64_t torch_bytes = 0;
  for (const auto& p : model->parameters()) torch_bytes += p.numel() * 4;
  for (const auto& b : model->buffers()) torch_bytes += b.numel() * b.element_size();
  const double t_ips = Median(torch_ips), e_ips = Median(engine_ips);
  // Engine profile times are summed over its worker threads: per image, single-thread view.
  const double tb = torch_split.binary_s / images * 1e3, tf = torch_split.float_s / images * 1e3;
  const double eb = prof.binary_s / images * 1e3, ef = prof.float_s / images * 1e3;
  return nlohmann::ordered_json{{"arch", arch},
                                {"size", size},
                                {"batch", batch},
                                {"threads", threads},
                                {"isa", infer::IsaName(engine.isa())},
                                {"rounds", torch_ips.size()},
                                {"torch_img_s", t_ips},
                                {"binary_img_s", e_ips},
                                {"ratio", e_ips / t_ips},
                                {"torch_binary_ms_per_img", tb},
                                {"torch_float_ms_per_img", tf},
                                {"engine_binary_ms_per_img", eb},
                                {"engine_float_ms_per_img", ef},
                                {"binary_conv_ratio", tb / eb},
                                {"float_part_ratio", tf / ef},
                                {"torch_weight_bytes", torch_bytes},
                                {"engine_weight_bytes", engine.WeightBytes()},
                                {"max_abs_logit_diff", max_diff}};
}

}  // namespace
}  // namespace fedsmear

int main(int argc, char** argv) {
  fedsmear::Options o;
  CLI::App app("binary engine vs LibTorch float forward, images/s");
  app.add_option("--arch", o.archs, "architectures")->delimiter(',');
  app.add_option("--size", o.sizes, "input sizes")->delimiter(',');
  app.add_option("--batch", o.batches, "batch sizes")->delimiter(',');
  app.add_option("--threads", o.threads, "thread counts")->delimiter(',');
  app.add_option("--seconds", o.seconds, "paired timing per combination")->capture_default_str();
  app.add_option("--isa", o.isa, "binary-engine kernels: auto|avx512|avx2|reference")
      ->capture_default_str();
  app.add_flag("--json", o.json, "print a JSON array");
  CLI11_PARSE(app, argc, argv);
  auto isa = fedsmear::ParseIsa(o.isa);
  if (!isa.ok()) {
    std::cerr << "infer_bench: " << isa.status().message() << "\n";
    return 1;
  }
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const std::string& arch : o.archs) {
    for (int size : o.sizes) {
      for (int batch : o.batches) {
        for (int threads : o.threads) {
          auto r = fedsmear::RunOne(arch, size, batch, threads, o.seconds, *isa);
          if (!r.ok()) {
            std::cerr << "infer_bench: " << r.status().message() << "\n";
            return 1;
          }
          const auto& j = *r;
          if (!o.json) {
            std::printf(
                "%-6s %3d px batch %2d threads %d [%s]: torch %8.1f img/s, binary %8.1f img/s, "
                "x%.2f; dense layers %.3f vs %.3f ms/img (x%.2f), float parts %.3f vs %.3f "
                "ms/img (x%.2f); weights %.2f MB vs %.2f MB; max |dlogit| %.2g\n",
                arch.c_str(), size, batch, threads, j["isa"].get<std::string>().c_str(),
                j["torch_img_s"].get<double>(), j["binary_img_s"].get<double>(),
                j["ratio"].get<double>(), j["torch_binary_ms_per_img"].get<double>(),
                j["engine_binary_ms_per_img"].get<double>(), j["binary_conv_ratio"].get<double>(),
                j["torch_float_ms_per_img"].get<double>(),
                j["engine_float_ms_per_img"].get<double>(), j["float_part_ratio"].get<double>(),
                j["torch_weight_bytes"].get<int64_t>() / 1e6,
                j["engine_weight_bytes"].get<size_t>() / 1e6,
                j["max_abs_logit_diff"].get<double>());
            std::fflush(stdout);
          }
          all.push_back(j);
        }
      }
    }
  }
  if (o.json) std::cout << all.dump(1) << "\n";
  return 0;
}
