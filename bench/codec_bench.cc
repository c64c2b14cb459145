// codec_bench: throughput of the update codecs (models/codec.h) and of the coordinator's
// per-update aggregation work on a bdn28-sized state (8 classes: 4,202,496 binary latent
// weights, 356,616 float parameters, 19,008 BN statistics, in a few large tensors).
//
//   PackSigns / UnpackSigns       GB/s of float values (4 bytes each) packed / unpacked
//   Encode/<codec>, Decode/<codec> MB/s of the model's f32 size (18.3 MB); bytes = encoded size
//                                 (every codec_up, zstd-framed ones included)
//   FedAvgAdd/K:10/threads:T      WeightedAccumulator::Add of 10 updates with T = 1 or 2
//                                 threads (the coordinator's aggregation_threads), GB/s of f32
//   MemcpyK/K:10/threads:T        memcpy of the same 10 x 18.3 MB in the same binary, T threads
//   VoteAdd/K:10                  VoteAccumulator::Add of 10 decoded updates
//   VoteAddEncoded/<codec>/K:10   VoteAccumulator::AddEncoded of 10 encoded updates
// After the runs, the FedAvg/memcpy and vote/memcpy throughput ratios are printed.
//
// Single-threaded but for the threads:2 pair; all data are built once in main() and borrowed
// by the benchmarks.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/aggregate.h"
#include "coordinator/vote.h"
#include "models/codec.h"
#include "models/packed_model.h"

namespace fedsmear {
namespace {

constexpr int kUpdates = 10;

struct BenchData {
  ModelState global;
  std::vector<ModelState> updates;  // kUpdates trained states
  int64_t values = 0;
  double model_bytes = 0;  // f32 size of one state
};

// Deterministic cheap pseudo-random fill (xorshift), roughly uniform in [-a, a].
void Fill(std::vector<float>* v, uint64_t seed, float a) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& f : *v) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    f = a * (static_cast<float>(x >> 40) / 8388608.f - 1.f);
  }
}

BenchData MakeData() {
  BenchData d;
  d.global.meta = {"bdn28", 8, 64, {}};
  auto add = [&d](const std::string& name, int64_t n, TensorKind kind) {
    d.global.tensors.push_back({name, {n}, kind, std::vector<float>(static_cast<size_t>(n))});
  };
  for (int i = 0; i < 4; ++i) add("binary" + std::to_string(i), 1050624, TensorKind::kBinary);
  for (int i = 0; i < 2; ++i) add("float" + std::to_string(i), 178308, TensorKind::kFloat);
  for (int i = 0; i < 2; ++i) add("stat" + std::to_string(i), 9504, TensorKind::kStat);
  uint64_t seed = 1;
  for (NamedTensor& t : d.global.tensors) Fill(&t.values, seed++, 0.1f);
  for (int k = 0; k < kUpdates; ++k) {
    ModelState u = d.global;
    for (NamedTensor& t : u.tensors) {
      std::vector<float> step(t.values.size());
      Fill(&step, seed++, 0.01f);
      for (size_t i = 0; i < step.size(); ++i) t.values[i] += step[i];
    }
    d.updates.push_back(std::move(u));
  }
  d.values = d.global.NumValues();
  d.model_bytes = 4.0 * static_cast<double>(d.values);
  return d;
}

void BmPackSigns(benchmark::State& state, const BenchData& d) {
  const std::vector<float>& x = d.updates[0].tensors[0].values;
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> bits(static_cast<size_t>((n + 7) / 8));
  for (auto _ : state) {
    PackSigns(x.data(), n, bits.data());
    benchmark::DoNotOptimize(bits.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 4);
}

void BmUnpackSigns(benchmark::State& state, const BenchData& d) {
  const std::vector<float>& x = d.updates[0].tensors[0].values;
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> bits(static_cast<size_t>((n + 7) / 8));
  PackSigns(x.data(), n, bits.data());
  std::vector<float> out(x.size());
  for (auto _ : state) {
    UnpackSigns(bits.data(), n, 0.05f, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 4);
}

void BmEncode(benchmark::State& state, const BenchData& d, CodecSpec spec) {
  size_t size = 0;
  uint64_t seed = 0;
  for (auto _ : state) {
    std::string bytes = EncodeUpdate(d.updates[0], &d.global, spec, ++seed);
    size = bytes.size();
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d.model_bytes));
  state.counters["encoded_bytes"] = static_cast<double>(size);
}

void BmDecode(benchmark::State& state, const BenchData& d, CodecSpec spec) {
  const std::string bytes = EncodeUpdate(d.updates[0], &d.global, spec, 1);
  for (auto _ : state) {
    Result<ModelState> back = DecodeUpdate(bytes, d.global);
    if (!back.ok()) state.SkipWithError(back.status().ToString().c_str());
    benchmark::DoNotOptimize(back);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d.model_bytes));
  state.counters["encoded_bytes"] = static_cast<double>(bytes.size());
}

void BmFedAvgAdd(benchmark::State& state, const BenchData& d, int threads) {
  WeightedAccumulator acc(d.global, threads);
  for (auto _ : state) {
    for (const ModelState& u : d.updates) {
      if (!acc.Add(u, 100.0).ok()) state.SkipWithError("Add failed");
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kUpdates * d.model_bytes));
}

// Copies tensors [begin, end) of `u` into `dst` at their flat offsets.
void CopyTensors(const ModelState& u, size_t begin, size_t end, float* dst) {
  for (size_t i = 0; i < u.tensors.size(); ++i) {
    const std::vector<float>& v = u.tensors[i].values;
    if (i >= begin && i < end) std::memcpy(dst, v.data(), v.size() * sizeof(float));
    dst += v.size();
  }
}

// memcpy of each update; with 2 threads the tensors are split into two halves by bytes and a
// thread is started per update, as WeightedAccumulator does.
void BmMemcpyK(benchmark::State& state, const BenchData& d, int threads) {
  std::vector<float> dst(static_cast<size_t>(d.values));
  const ModelState& first = d.updates.front();
  size_t mid = 0;
  for (size_t half = 0; mid < first.tensors.size() && 2 * half < static_cast<size_t>(d.values);
       ++mid) {
    half += first.tensors[mid].values.size();
  }
  for (auto _ : state) {
    for (const ModelState& u : d.updates) {
      if (threads > 1) {
        std::thread other([&] { CopyTensors(u, mid, u.tensors.size(), dst.data()); });
        CopyTensors(u, 0, mid, dst.data());
        other.join();
      } else {
        CopyTensors(u, 0, u.tensors.size(), dst.data());
      }
      benchmark::DoNotOptimize(dst.data());
      benchmark::ClobberMemory();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kUpdates * d.model_bytes));
}

void BmVoteAdd(benchmark::State& state, const BenchData& d) {
  VoteAccumulator agg(d.global);
  for (auto _ : state) {
    for (const ModelState& u : d.updates) {
      if (!agg.Add(u, 100).ok()) state.SkipWithError("Add failed");
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kUpdates * d.model_bytes));
}

void BmVoteAddEncoded(benchmark::State& state, const BenchData& d, CodecSpec spec) {
  std::vector<std::string> encoded;
  for (int k = 0; k < kUpdates; ++k) {
    encoded.push_back(EncodeUpdate(d.updates[k], &d.global, spec, static_cast<uint64_t>(k)));
  }
  VoteAccumulator agg(d.global);
  for (auto _ : state) {
    for (const std::string& bytes : encoded) {
      if (!agg.AddEncoded(bytes, 100).ok()) state.SkipWithError("AddEncoded failed");
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kUpdates * d.model_bytes));
  state.counters["encoded_bytes"] = static_cast<double>(encoded[0].size());
}

// Console output as usual, plus the throughput of named runs for the closing ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      auto it = r.counters.find("bytes_per_second");
      if (it == r.counters.end()) continue;
      std::string name = r.benchmark_name();
      const std::string suffix = "/real_time";  // UseRealTime runs
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        name.resize(name.size() - suffix.size());
      }
      rate_[name] = it->second.value;
    }
  }
  void PrintRatio(const std::string& name, const std::string& baseline) const {
    auto a = rate_.find(name), b = rate_.find(baseline);
    if (a == rate_.end() || b == rate_.end() || b->second <= 0) return;
    constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;  // as the console's "G/s"
    std::printf("%-40s %7.3f GiB/s = %.3f x %s (%.3f GiB/s)\n", name.c_str(), a->second / kGiB,
                a->second / b->second, baseline.c_str(), b->second / kGiB);
  }

 private:
  std::map<std::string, double> rate_;
};

}  // namespace
}  // namespace fedsmear

int main(int argc, char** argv) {
  using namespace fedsmear;  // NOLINT: main only
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const BenchData data = MakeData();
  const BenchData* d = &data;
  benchmark::RegisterBenchmark("PackSigns", [d](benchmark::State& s) { BmPackSigns(s, *d); });
  benchmark::RegisterBenchmark("UnpackSigns", [d](benchmark::State& s) { BmUnpackSigns(s, *d); });
  for (const CodecSpec& spec : AllUplinkCodecSpecs()) {  // every codec_up, "+zstd" included
    const std::string name = CodecSpecName(spec);
    benchmark::RegisterBenchmark(("Encode/" + name).c_str(),
                                 [d, spec](benchmark::State& s) { BmEncode(s, *d, spec); })
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("Decode/" + name).c_str(),
                                 [d, spec](benchmark::State& s) { BmDecode(s, *d, spec); })
        ->Unit(benchmark::kMillisecond);
  }
  const std::string k = "/K:" + std::to_string(kUpdates);
  for (int threads : {1, 2}) {
    const std::string t = "/threads:" + std::to_string(threads);
    benchmark::RegisterBenchmark(("FedAvgAdd" + k + t).c_str(),
                                 [d, threads](benchmark::State& s) { BmFedAvgAdd(s, *d, threads); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("MemcpyK" + k + t).c_str(),
                                 [d, threads](benchmark::State& s) { BmMemcpyK(s, *d, threads); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark(("VoteAdd" + k).c_str(),
                               [d](benchmark::State& s) { BmVoteAdd(s, *d); })
      ->Unit(benchmark::kMillisecond);
  for (const char* codec : {"sign1+f32", "sign1+f16", "sign1_scaled+q8"}) {
    const CodecSpec spec = *ParseCodecSpec(codec);
    benchmark::RegisterBenchmark(
        ("VoteAddEncoded/" + std::string(codec) + k).c_str(),
        [d, spec](benchmark::State& s) { BmVoteAddEncoded(s, *d, spec); })
        ->Unit(benchmark::kMillisecond);
  }
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nthroughput relative to memcpy of the same bytes:\n");
  const std::string one = k + "/threads:1", two = k + "/threads:2";
  reporter.PrintRatio("FedAvgAdd" + one, "MemcpyK" + one);
  reporter.PrintRatio("FedAvgAdd" + two, "MemcpyK" + two);
  reporter.PrintRatio("FedAvgAdd" + two, "MemcpyK" + one);
  for (const char* name : {"VoteAdd", "VoteAddEncoded/sign1+f32", "VoteAddEncoded/sign1+f16",
                           "VoteAddEncoded/sign1_scaled+q8"}) {
    reporter.PrintRatio(name + k, "MemcpyK" + one);
  }
  benchmark::Shutdown();
  return 0;
}
