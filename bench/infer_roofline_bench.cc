// infer_roofline_bench: the binary engine (infer/engine.h) against this CPU's roofline, and
// its batch-1 latency with 1 and 2 threads. Torch-free (random weights from
// tests/infer/random_state.h; kernel speed does not depend on the values).
//
//   infer_roofline_bench [--isa=avx512,avx2] [--latency_seconds=20] [Google Benchmark flags]
//
// 1. Peaks, one thread, register-resident (bench/roofline_peaks.h): XNOR-popcount bit MACs/s
//    with the AVX2 and the AVX-512 kernels' instruction mixes, FMA FLOP/s with AVX2 and
//    AVX-512 vectors.
// 2. Per layer of bdn28 at 64 px, batch 1, one thread, for each --isa: the engine's work of
//    that layer through the public kernels (dense layer = BN + sign packing + XNOR-popcount
//    3x3 conv; stem = im2col + GEMM + BN + ReLU, then 3x3/2 max pool + first packing;
//    transition = BN + 2x2 max pool + ReLU + 1x1 GEMM + next packing; head), its rate
//    (bit MACs of the taps inside the image, or GEMM FLOPs) and its share of the peak; then the
//    engine's whole Forward and the model's share of the roofline: the time it would take at
//    peak (sum of binary ops / binary peak + FLOPs / FMA peak) over the time it takes.
//    Times are per-thread CPU time (a busy machine's preemption is left out), median over
//    --benchmark_repetitions (default 5).
// 3. Batch-1 latency of engines with 1 and 2 threads (EngineOptions::threads, split inside
//    layers), the BestIsa kernels, alternating one Forward each (ABBA order) for
//    --latency_seconds of wall time; median latency, images/s and the 2-thread / 1-thread ratio.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/roofline_layers.h"
#include "bench/roofline_peaks.h"
#include "infer/engine.h"
#include "tests/infer/random_state.h"

namespace fedsmear::bench {
namespace {

using infer::Isa;
using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Console output as usual, and each benchmark's CPU seconds per iteration over repetitions.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  CollectingReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.iterations == 0) continue;
      seconds_[r.run_name.function_name].push_back(r.cpu_accumulated_time /
                                                   static_cast<double>(r.iterations));
    }
  }
  double Seconds(const std::string& name) const {
    auto it = seconds_.find(name);
    return it == seconds_.end() ? 0 : Median(it->second);
  }

 private:
  std::map<std::string, std::vector<double>> seconds_;
};

struct Peak {
  std::string name;
  double ops_per_call;
  std::function<int64_t()> run;
};

std::vector<Peak> Peaks() {
  constexpr int64_t kBlocks = 1000, kSteps = 10000;
  std::vector<Peak> p;
#if defined(__x86_64__)
  if (infer::IsaSupported(Isa::kAvx2)) {
    p.push_back({"peak/xnor_popcount/avx2", XnorPopcountAvx2Ops(kBlocks),
                 [] { return XnorPopcountAvx2(kBlocks, 0x9E3779B97F4A7C15ull); }});
    p.push_back({"peak/fma/avx2", FmaAvx2Ops(kSteps),
                 [] { return static_cast<int64_t>(FmaAvx2(kSteps, 1.0f)); }});
  }
  if (infer::IsaSupported(Isa::kAvx512)) {
    p.push_back({"peak/xnor_popcount/avx512", XnorPopcountAvx512Ops(kBlocks),
                 [] { return XnorPopcountAvx512(kBlocks, 0x9E3779B97F4A7C15ull); }});
    p.push_back({"peak/fma/avx512", FmaAvx512Ops(kSteps),
                 [] { return static_cast<int64_t>(FmaAvx512(kSteps, 1.0f)); }});
  }
#endif
  return p;
}

const char* ShortIsa(Isa isa) { return isa == Isa::kAvx512 ? "avx512" : infer::IsaName(isa); }

void PrintRoofline(const CollectingReporter& rep, Isa isa, const LayerSet& set,
                   const std::string& model_name) {
  const std::string s = ShortIsa(isa);
  if (rep.Seconds(model_name) <= 0) return;  // filtered out (e.g. --benchmark_filter=NONE)
  const double bin_peak =
      rep.Seconds("peak/xnor_popcount/" + s) > 0
          ? (isa == Isa::kAvx512 ? XnorPopcountAvx512Ops(1000) : XnorPopcountAvx2Ops(1000)) /
                rep.Seconds("peak/xnor_popcount/" + s)
          : 0;
  const double fma_peak = rep.Seconds("peak/fma/" + s) > 0
                              ? (isa == Isa::kAvx512 ? FmaAvx512Ops(10000) : FmaAvx2Ops(10000)) /
                                    rep.Seconds("peak/fma/" + s)
                              : 0;
  std::printf("\n== bdn28 64 px, batch 1, 1 thread, %s kernels (CPU time, median)\n", s.c_str());
  std::printf("peak XNOR-popcount %.1f Gbop/s (bit MACs), peak FMA %.1f GFLOP/s\n", bin_peak / 1e9,
              fma_peak / 1e9);
  std::printf("%-16s %-6s %12s %10s %12s %8s\n", "layer", "kind", "work", "us", "rate", "% peak");
  double sum_s = 0, ideal_s = 0, bin_s = 0, bin_ideal = 0;
  for (const LayerRun& l : set.layers()) {
    const double t = rep.Seconds("layer/" + s + "/" + l.name);
    sum_s += t;
    const bool binary = l.kind == LayerKind::kBinary;
    const double peak = binary ? bin_peak : fma_peak;
    const double ideal = l.ops > 0 && peak > 0 ? l.ops / peak : 0;
    ideal_s += ideal;
    if (binary) bin_s += t, bin_ideal += ideal;
    if (l.ops > 0) {
      std::printf("%-16s %-6s %8.2f %s %10.2f %7.1f %s %7.1f%%\n", l.name.c_str(),
                  binary ? "binary" : "float", l.ops / 1e6, binary ? "Mbop" : "MFLOP", t * 1e6,
                  l.ops / t / 1e9, binary ? "Gbop/s" : "GFLOP/s", 100 * ideal / t);
    } else {
      std::printf("%-16s %-6s %12s %10.2f %12s %8s\n", l.name.c_str(), "other", "-", t * 1e6, "-",
                  "-");
    }
  }
  const double model_s = rep.Seconds(model_name);
  std::printf("sum of layers %.1f us; engine Forward %.1f us (%.0f img/s)\n", sum_s * 1e6,
              model_s * 1e6, 1 / model_s);
  std::printf("binary layers: %.1f us, %.1f%% of the XNOR-popcount roofline\n", bin_s * 1e6,
              100 * bin_ideal / bin_s);
  std::printf("whole model: %.1f us at peak vs %.1f us -> %.1f%% of the roofline\n", ideal_s * 1e6,
              model_s * 1e6, 100 * ideal_s / model_s);
}

// Batch-1 latency, 1 vs 2 threads, interleaved ABBA.
int RunLatency(double seconds) {
  Result<ModelState> state = infer::RandomState("bdn28", 8, 64, 1);
  if (!state.ok()) return 1;
  std::vector<std::unique_ptr<infer::BinaryEngine>> engines;
  for (int threads : {1, 2}) {
    infer::EngineOptions o;
    o.threads = threads;
    Result<infer::BinaryEngine> e = infer::BinaryEngine::FromState(*state, o);
    if (!e.ok()) return 1;
    engines.push_back(std::make_unique<infer::BinaryEngine>(std::move(*e)));
  }
  const std::vector<float> image = infer::RandomImages(1, 64, 2);
  std::vector<float> logits(8);
  std::vector<double> lat[2];
  auto time_one = [&](int k) {
    const Clock::time_point t = Clock::now();
    engines[k]->Forward(image.data(), 1, logits.data());
    lat[k].push_back(std::chrono::duration<double>(Clock::now() - t).count());
  };
  for (int k = 0; k < 2; ++k) time_one(k);  // warm-up
  lat[0].clear(), lat[1].clear();
  const Clock::time_point start = Clock::now();
  for (int round = 0; std::chrono::duration<double>(Clock::now() - start).count() < seconds;
       ++round) {
    const int first = round % 2;
    time_one(first);
    time_one(1 - first);
  }
  const double l1 = Median(lat[0]), l2 = Median(lat[1]);
  std::printf("\n== batch-1 latency, bdn28 64 px, %s kernels, wall time, %zu rounds ABBA\n",
              infer::IsaName(engines[0]->isa()), lat[0].size());
  std::printf("1 thread : median %.1f us = %.0f img/s\n", l1 * 1e6, 1 / l1);
  std::printf("2 threads: median %.1f us = %.0f img/s (split inside layers)\n", l2 * 1e6, 1 / l2);
  std::printf("2 threads / 1 thread: x%.2f images/s\n", l1 / l2);
  return 0;
}

}  // namespace
}  // namespace fedsmear::bench

int main(int argc, char** argv) {
  using namespace fedsmear;         // NOLINT: main only
  using namespace fedsmear::bench;  // NOLINT: main only
  std::vector<Isa> isas;
  double latency_seconds = 20;
  // Our flags out of argv before Google Benchmark sees it.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--isa=", 0) == 0) {
      std::string list = a.substr(6) + ",";
      for (size_t p = 0, q; (q = list.find(',', p)) != std::string::npos; p = q + 1) {
        const std::string n = list.substr(p, q - p);
        if (n == "avx512") {
          isas.push_back(Isa::kAvx512);
        } else if (n == "avx2") {
          isas.push_back(Isa::kAvx2);
        } else if (n == "reference") {
          isas.push_back(Isa::kReference);
        } else if (!n.empty()) {
          std::fprintf(stderr, "unknown isa %s\n", n.c_str());
          return 2;
        }
      }
    } else if (a.rfind("--latency_seconds=", 0) == 0) {
      latency_seconds = std::stod(a.substr(18));
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (isas.empty()) {
    for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
      if (infer::IsaSupported(isa)) isas.push_back(isa);
    }
  }
  std::vector<char*> args(argv, argv + argc);
  std::string reps = "--benchmark_repetitions=5";
  bool has_reps = false;
  for (char* a : args) has_reps |= std::strncmp(a, "--benchmark_repetitions", 23) == 0;
  if (!has_reps) args.push_back(reps.data());
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;

  for (const Peak& p : Peaks()) {
    benchmark::RegisterBenchmark(p.name.c_str(), [p](benchmark::State& st) {
      for (auto _ : st) benchmark::DoNotOptimize(p.run());
      st.counters["ops/s"] =
          benchmark::Counter(p.ops_per_call, benchmark::Counter::kIsIterationInvariantRate);
    })->Unit(benchmark::kMicrosecond);
  }
  std::vector<std::unique_ptr<LayerSet>> sets;
  std::vector<std::unique_ptr<infer::BinaryEngine>> engines;
  Result<ModelState> state = infer::RandomState("bdn28", 8, 64, 1);
  const std::vector<float> image = infer::RandomImages(1, 64, 2);
  for (Isa isa : isas) {
    if (!infer::IsaSupported(isa) || !state.ok()) return 1;
    Result<std::unique_ptr<LayerSet>> set = LayerSet::Make("bdn28", 64, isa);
    if (!set.ok()) return std::fprintf(stderr, "%s\n", set.status().message().c_str()), 1;
    const std::string s = ShortIsa(isa);
    for (const LayerRun& l : (*set)->layers()) {
      const LayerRun* lp = &l;
      auto run = [lp](benchmark::State& st) {
        for (auto _ : st) lp->run();
      };
      benchmark::RegisterBenchmark(("layer/" + s + "/" + l.name).c_str(), run)
          ->Unit(benchmark::kMicrosecond);
    }
    sets.push_back(std::move(*set));
    infer::EngineOptions o;
    o.isa = isa;
    Result<infer::BinaryEngine> e = infer::BinaryEngine::FromState(*state, o);
    if (!e.ok()) return 1;
    engines.push_back(std::make_unique<infer::BinaryEngine>(std::move(*e)));
    const infer::BinaryEngine* ep = engines.back().get();
    auto forward = [ep, &image](benchmark::State& st) {
      std::vector<float> logits(8);
      for (auto _ : st) ep->Forward(image.data(), 1, logits.data());
    };
    benchmark::RegisterBenchmark(("model/" + s + "/forward").c_str(), forward)
        ->Unit(benchmark::kMicrosecond);
  }
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  for (size_t i = 0; i < isas.size(); ++i) {
    PrintRoofline(reporter, isas[i], *sets[i],
                  "model/" + std::string(ShortIsa(isas[i])) + "/forward");
  }
  return latency_seconds > 0 ? RunLatency(latency_seconds) : 0;
}
