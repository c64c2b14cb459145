// loader_bench: images/s of BatchLoader at 64x64 (training mode: shuffle + flips), for 1 and 2
// worker threads, on the first epoch (JPEG/PNG decoding) and on a cached epoch.
//
// Data: /work/shared/data/wbc-pbc (or $FEDSMEAR_BENCH_DATA) when present, else a synthetic WBC
// set generated into a temp folder. $FEDSMEAR_BENCH_IMAGES caps the images used (default 4096,
// spread evenly over the dataset; 0 = all).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <string>

#include "data/loader.h"
#include "data/synth.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

struct BenchData {
  Dataset dataset;
  std::vector<size_t> indices;
  std::string source;
};

LoaderOptions Options(int threads) {
  LoaderOptions o;
  o.batch_size = 32;
  o.input_size = 64;
  o.train = true;
  o.seed = 1;
  o.threads = threads;
  return o;
}

int64_t RunEpoch(BatchLoader& loader, int epoch) {
  loader.StartEpoch(epoch);
  Batch b;
  int64_t n = 0;
  while (loader.Next(&b)) n += b.n;
  return n;
}

void DecodeEpoch(benchmark::State& state, const BenchData& data, int threads) {
  int64_t images = 0;
  for (auto _ : state) {
    BatchLoader loader(data.dataset, data.indices, Options(threads));
    images += RunEpoch(loader, 0);
  }
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(images),
                                                  benchmark::Counter::kIsRate);
  state.SetLabel(data.source);
}

void CachedEpoch(benchmark::State& state, const BenchData& data, int threads) {
  BatchLoader loader(data.dataset, data.indices, Options(threads));
  RunEpoch(loader, 0);  // fills the cache, untimed
  int64_t images = 0;
  int epoch = 1;
  for (auto _ : state) images += RunEpoch(loader, epoch++);
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(images),
                                                  benchmark::Counter::kIsRate);
  state.SetLabel(data.source);
}

}  // namespace
}  // namespace fedsmear

int main(int argc, char** argv) {
  using namespace fedsmear;
  benchmark::Initialize(&argc, argv);
  const char* env_data = std::getenv("FEDSMEAR_BENCH_DATA");
  const std::string real = env_data != nullptr ? env_data : "/work/shared/data/wbc-pbc";
  const char* env_cap = std::getenv("FEDSMEAR_BENCH_IMAGES");
  const size_t cap = env_cap != nullptr ? std::strtoull(env_cap, nullptr, 10) : 4096;

  BenchData data;
  fs::path synth_dir;
  if (fs::is_directory(real)) {
    data.source = real;
  } else {
    synth_dir = fs::temp_directory_path() / ("fedsmear_loader_bench_" + std::to_string(::getpid()));
    SynthOptions o;
    o.task = "wbc";
    o.per_class = 1024;
    o.size = 128;
    if (Status st = WriteSynthDataset(o, synth_dir.string()); !st.ok()) {
      std::cerr << "loader_bench: " << st << "\n";
      return 1;
    }
    data.source = "synthetic wbc 128px png";
  }
  Result<Dataset> ds = ScanImageFolder(synth_dir.empty() ? real : synth_dir.string(), {});
  if (!ds.ok()) {
    std::cerr << "loader_bench: " << ds.status() << "\n";
    return 1;
  }
  data.dataset = std::move(ds).value();
  const size_t n = data.dataset.samples.size();
  const size_t use = cap == 0 ? n : std::min(cap, n);
  for (size_t k = 0; k < use; ++k) data.indices.push_back(k * n / use);

  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark(("decode_epoch/threads:" + std::to_string(threads)).c_str(),
                                 [&data, threads](benchmark::State& s) {
                                   DecodeEpoch(s, data, threads);
                                 })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(2);
    benchmark::RegisterBenchmark(("cached_epoch/threads:" + std::to_string(threads)).c_str(),
                                 [&data, threads](benchmark::State& s) {
                                   CachedEpoch(s, data, threads);
                                 })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(5);
  }
  std::cout << "images per epoch: " << data.indices.size() << " of " << n << " (" << data.source
            << ")\n";
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (!synth_dir.empty()) {
    std::error_code ec;
    fs::remove_all(synth_dir, ec);
  }
  return 0;
}
