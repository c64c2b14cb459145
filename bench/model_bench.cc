// model_bench: training / inference speed of the C++ BinaryDenseNet, and pack / unpack speed of
// its transfer format; the C++ twin of bench/py/model_speed.py (scripts/bench-model runs both).
//
//   model_bench --arch bdn28 --size 64 --batch 32 --threads 2 --seconds 10 [--pack] [--json]
//     Training: train mode, forward + cross-entropy + backward + Adam step (lr 1e-3) +
//     ClipLatentWeights, on random inputs and labels. Inference: eval mode under NoGradGuard.
//     Each phase runs --warmup untimed steps, then whole steps until --seconds have passed;
//     images/s = images / elapsed. With --pack, also PackModel / UnpackModel of the model's
//     ExportState: MB/s counts the float state (values * 4 bytes, MB = 1e6 bytes) per second;
//     packed bytes/s are reported as well.
//   model_bench --export-check DIR
//     For bdn-tiny (32 px, small stem) and bdn28 (64 px): a seeded model whose BN statistics
//     were moved by a few train-mode passes, then in eval mode, writes DIR/<arch>/weights.pt
//     (ExportTorchPickle), input.pt and logits.pt (torch::pickle_save) and meta.json, which
//     bench/py/check_twin.py compares against the Python twin.
//
// Output: one JSON object (--json) or a human-readable line on stdout; errors on stderr with a
// non-zero exit code. Single-threaded driver; torch uses --threads intra-op threads.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "models/densenet.h"
#include "models/packed_model.h"

namespace fedsmear {
namespace {

struct BenchOptions {
  std::string arch = "bdn28";
  int size = 64;
  int batch = 32;
  int classes = 8;
  int threads = 2;
  double seconds = 10.0;
  int warmup = 1;
  uint64_t seed = 1;
  bool pack = false;
  double pack_seconds = 3.0;
  bool json = false;
  std::string export_check_dir;
};

// Runs `step` `warmup` times, then until `seconds` have elapsed (at least once); returns the
// number of timed steps per second.
double StepsPerSecond(const std::function<void()>& step, double seconds, int warmup) {
  for (int i = 0; i < warmup; ++i) step();
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  int64_t steps = 0;
  while (true) {
    step();
    ++steps;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed >= seconds) return static_cast<double>(steps) / elapsed;
  }
}

std::vector<std::string> ClassNames(int classes) {
  std::vector<std::string> names;
  for (int i = 0; i < classes; ++i) names.push_back("class" + std::to_string(i));
  return names;
}

double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

int RunSpeed(const BenchOptions& o) {
  torch::set_num_threads(o.threads);
  torch::manual_seed(o.seed);
  Result<DenseNet> made = MakeModel(o.arch, o.classes, o.size);
  if (!made.ok()) {
    std::cerr << "model_bench: " << made.status().ToString() << "\n";
    return 1;
  }
  DenseNet model = *made;
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  const torch::Tensor images = torch::randn({o.batch, 3, o.size, o.size});
  const torch::Tensor labels = torch::randint(0, o.classes, {o.batch}, torch::kLong);

  auto train_step = [&] {
    optimizer.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(images), labels);
    loss.backward();
    optimizer.step();
    model->ClipLatentWeights();
  };
  auto infer_step = [&] {
    torch::NoGradGuard no_grad;
    model->forward(images);
  };
  model->train();
  const double train = StepsPerSecond(train_step, o.seconds, o.warmup) * o.batch;
  model->eval();
  const double infer = StepsPerSecond(infer_step, o.seconds, o.warmup) * o.batch;

  nlohmann::ordered_json j = {
      {"impl", "cpp"},           {"torch", TORCH_VERSION},
      {"arch", o.arch},          {"size", o.size},
      {"batch", o.batch},        {"threads", o.threads},
      {"seconds", o.seconds},    {"train_img_s", Round3(train)},
      {"infer_img_s", Round3(infer)},
  };
  if (double load[1]; getloadavg(load, 1) == 1) {
    j["loadavg_1m"] = std::round(load[0] * 100.0) / 100.0;  // other load skews the numbers
  }

  if (o.pack) {
    const ModelState state = ExportState(model, ClassNames(o.classes));
    const double float_bytes = static_cast<double>(state.NumValues()) * 4.0;
    std::string packed = PackModel(state);
    const double packs = StepsPerSecond([&] { packed = PackModel(state); }, o.pack_seconds, 1);
    bool unpack_ok = true;
    const double unpacks = StepsPerSecond(
        [&] { unpack_ok = UnpackModel(packed).ok() && unpack_ok; }, o.pack_seconds, 1);
    if (!unpack_ok) {
      std::cerr << "model_bench: UnpackModel failed on PackModel's output\n";
      return 1;
    }
    j["float_state_bytes"] = static_cast<int64_t>(float_bytes);
    j["packed_bytes"] = packed.size();
    j["pack_mb_s"] = Round3(packs * float_bytes / 1e6);
    j["pack_packed_bytes_s"] = Round3(packs * static_cast<double>(packed.size()));
    j["unpack_mb_s"] = Round3(unpacks * float_bytes / 1e6);
    j["unpack_packed_bytes_s"] = Round3(unpacks * static_cast<double>(packed.size()));
  }

  if (o.json) {
    std::cout << j.dump() << "\n";
  } else {
    std::printf("%s %dpx batch %d, %d threads (c++): train %.1f img/s, inference %.1f img/s\n",
                o.arch.c_str(), o.size, o.batch, o.threads, train, infer);
    if (o.pack) {
      std::printf("pack %.1f MB/s, unpack %.1f MB/s (float state %.1f MB, packed %.2f MB)\n",
                  j["pack_mb_s"].get<double>(), j["unpack_mb_s"].get<double>(),
                  j["float_state_bytes"].get<double>() / 1e6,
                  static_cast<double>(j["packed_bytes"].get<size_t>()) / 1e6);
    }
  }
  return 0;
}

Status WriteBytes(const std::filesystem::path& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return IoError("cannot write " + path.string());
  return Status::Ok();
}

Status ExportOne(const std::string& arch, int size, const BenchOptions& o,
                 const std::filesystem::path& dir) {
  torch::manual_seed(o.seed);
  ASSIGN_OR_RETURN(DenseNet model, MakeModel(arch, o.classes, size));
  {
    // Move the BN running statistics away from (0, 1) so that loading them is tested too.
    torch::NoGradGuard no_grad;
    model->train();
    for (int i = 0; i < 3; ++i) model->forward(torch::randn({8, 3, size, size}) * 1.5 + 0.3);
  }
  model->eval();
  const torch::Tensor input = torch::randn({4, 3, size, size});
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = model->forward(input);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  RETURN_IF_ERROR(ExportTorchPickle(ExportState(model, ClassNames(o.classes)),
                                    (dir / "weights.pt").string()));
  RETURN_IF_ERROR(WriteBytes(dir / "input.pt", torch::pickle_save(input)));
  RETURN_IF_ERROR(WriteBytes(dir / "logits.pt", torch::pickle_save(logits)));
  nlohmann::ordered_json meta = {{"arch", arch},       {"classes", o.classes},
                                 {"input_size", size}, {"threads", o.threads},
                                 {"seed", o.seed},     {"torch", TORCH_VERSION}};
  std::ofstream out(dir / "meta.json");
  out << meta.dump(2) << "\n";
  out.close();
  if (!out) return IoError("cannot write " + (dir / "meta.json").string());
  return Status::Ok();
}

int RunExportCheck(const BenchOptions& o) {
  torch::set_num_threads(o.threads);
  const std::filesystem::path root(o.export_check_dir);
  const std::vector<std::pair<std::string, int>> models = {{"bdn-tiny", 32}, {"bdn28", 64}};
  for (const auto& [arch, size] : models) {
    const std::filesystem::path dir = root / arch;
    if (Status s = ExportOne(arch, size, o, dir); !s.ok()) {
      std::cerr << "model_bench: " << arch << ": " << s.ToString() << "\n";
      return 1;
    }
    std::cout << "wrote " << (dir / "weights.pt").string() << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace fedsmear

int main(int argc, char** argv) {
  fedsmear::BenchOptions o;
  CLI::App app("model_bench: BinaryDenseNet training/inference and pack/unpack speed");
  app.add_option("--arch", o.arch, "architecture (bdn28, bdn37, bdn45, densenet28, bdn-tiny...)")
      ->capture_default_str();
  app.add_option("--size", o.size, "input side in pixels")->capture_default_str();
  app.add_option("--batch", o.batch, "batch size")->capture_default_str()->check(
      CLI::PositiveNumber);
  app.add_option("--classes", o.classes, "number of classes")->capture_default_str();
  app.add_option("--threads", o.threads, "torch intra-op threads")->capture_default_str()->check(
      CLI::PositiveNumber);
  app.add_option("--seconds", o.seconds, "timed seconds per phase")->capture_default_str();
  app.add_option("--warmup", o.warmup, "untimed steps per phase")->capture_default_str();
  app.add_option("--seed", o.seed, "torch seed")->capture_default_str();
  app.add_flag("--pack", o.pack, "also measure PackModel / UnpackModel");
  app.add_option("--pack-seconds", o.pack_seconds, "timed seconds for pack and for unpack")
      ->capture_default_str();
  app.add_flag("--json", o.json, "print one JSON object");
  app.add_option("--export-check", o.export_check_dir,
                 "write weights/input/logits for bench/py/check_twin.py into DIR and exit");
  CLI11_PARSE(app, argc, argv);
  try {
    if (!o.export_check_dir.empty()) return fedsmear::RunExportCheck(o);
    return fedsmear::RunSpeed(o);
  } catch (const c10::Error& e) {
    std::cerr << "model_bench: torch error: " << e.what_without_backtrace() << "\n";
    return 1;
  }
}
