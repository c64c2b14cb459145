// secagg_bench: SecAgg+ costs at bdn28 scale (4.5M-word update vectors).
//
//   BM_MaskGeneration   AES-256-CTR keystream -> uint32 words (compare: openssl speed -evp
//                       aes-256-ctr); bytes/s is the PRG rate.
//   BM_AddMask          fused generate + modular add into a vector (what masking does per seed).
//   BM_SiteRound        one site's work in a round (stages 1-4) among n simulated sites; manual
//                       time covers only that site's calls.
//   BM_ServerRound      coordinator stages 3-4 (sum n masked inputs, rebuild secrets, unmask)
//                       for n sites, with `drops` sites lost after sharing keys.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "secagg/prg.h"
#include "secagg/server.h"
#include "secagg/site.h"

namespace fedsmear::secagg {
namespace {

constexpr size_t kWords = 4500000;  // ~bdn28 parameter count

void Check(const Status& s) {
  if (!s.ok()) {
    std::cerr << "secagg_bench: " << s << "\n";
    std::abort();
  }
}
template <typename T>
T Take(Result<T> r) {
  Check(r.status());
  return std::move(r).value();
}

Secret32 BenchKey() {
  std::array<uint8_t, 32> k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i * 13 + 1);
  return Secret32(k);
}

void BM_MaskGeneration(benchmark::State& state) {
  std::vector<uint32_t> out(kWords);
  const Secret32 key = BenchKey();
  for (auto _ : state) {
    AesCtrPrg prg = Take(AesCtrPrg::Create(key));
    Check(prg.FillWords32(out.data(), out.size()));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kWords * 4);
}
BENCHMARK(BM_MaskGeneration)->Unit(benchmark::kMillisecond);

void BM_AddMask(benchmark::State& state) {
  std::vector<uint32_t> data(kWords, 7);
  const Secret32 key = BenchKey();
  for (auto _ : state) {
    Check(AddMask(key, false, data.data(), data.size()));
    benchmark::DoNotOptimize(data.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kWords * 4);
}
BENCHMARK(BM_AddMask)->Unit(benchmark::kMillisecond);

struct Sim {
  Config config;
  IdentityDirectory directory;
  std::vector<Secret32> identity_seeds;
  std::vector<Site> sites;
  std::optional<Server> server;
};

Sim MakeSim(uint32_t n) {
  Sim sim;
  sim.config.num_sites = n;
  sim.config.neighbours = 0;  // SecAgg+ default: n=10 -> complete (k=9), n=50 -> k=18
  sim.config.threshold = RecommendedThreshold(DefaultNeighbourCount(n, 0));
  sim.config.mask_bits = 32;
  sim.config.vector_length = kWords;
  sim.config.round = 1;
  for (uint32_t i = 1; i <= n; ++i) {
    Secret32 seed = Take(RandomSecret32());
    sim.directory[i] = Take(Ed25519KeyPair::FromPrivate(seed)).public_key();
    sim.identity_seeds.push_back(seed);
  }
  return sim;
}

// Fresh Site objects and server; stages 1-2 for everyone. `timed_site` (0 = none) accumulates
// its own call time into *elapsed.
void StartRound(Sim& sim, uint32_t timed_site, double* elapsed) {
  using Clock = std::chrono::steady_clock;
  sim.sites.clear();
  for (uint32_t i = 1; i <= sim.config.num_sites; ++i) {
    sim.sites.push_back(Take(
        Site::Create(sim.config, i, Take(Ed25519KeyPair::FromPrivate(sim.identity_seeds[i - 1])),
                     sim.directory)));
  }
  sim.server.emplace(Take(Server::Create(sim.config, sim.directory)));
  for (Site& site : sim.sites) {
    const auto t0 = Clock::now();
    AdvertisedKeys keys = Take(site.AdvertiseKeys());
    if (site.id() == timed_site)
      *elapsed += std::chrono::duration<double>(Clock::now() - t0).count();
    Check(sim.server->AddAdvertisedKeys(keys));
  }
  Check(sim.server->CloseAdvertiseStage());
  for (Site& site : sim.sites) {
    const auto keys = Take(sim.server->KeysFor(site.id()));
    const auto t0 = Clock::now();
    auto shares = Take(site.ShareKeys(keys));
    if (site.id() == timed_site)
      *elapsed += std::chrono::duration<double>(Clock::now() - t0).count();
    Check(sim.server->AddEncryptedShares(site.id(), shares));
  }
  Check(sim.server->CloseShareStage());
}

void BM_SiteRound(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const uint32_t n = static_cast<uint32_t>(state.range(0));
  Sim sim = MakeSim(n);
  std::vector<uint32_t> x(kWords, 3);
  for (auto _ : state) {
    double elapsed = 0;
    StartRound(sim, 1, &elapsed);
    const auto received = Take(sim.server->SharesFor(1));
    auto t0 = Clock::now();
    MaskedInput y = Take(sim.sites[0].MaskInput(received, x));
    elapsed += std::chrono::duration<double>(Clock::now() - t0).count();
    benchmark::DoNotOptimize(y.masked.data());
    Check(sim.server->AddMaskedInput(y));
    for (size_t i = 1; i < sim.sites.size(); ++i) {  // the others, untimed
      Site& other = sim.sites[i];
      Check(sim.server->AddMaskedInput(
          Take(other.MaskInput(Take(sim.server->SharesFor(other.id())), x))));
    }
    const UnmaskRequest all = Take(sim.server->CloseMaskStage());
    for (size_t i = 1; i < sim.sites.size(); ++i) {
      Check(sim.server->AddConsistencySignature(sim.sites[i].id(),
                                                Take(sim.sites[i].SignSurvivors(all.survivors))));
    }
    t0 = Clock::now();  // consistency round and unmasking of site 1
    Check(sim.server->AddConsistencySignature(1, Take(sim.sites[0].SignSurvivors(all.survivors))));
    const UnmaskRequest request = sim.server->RequestFor(1);
    UnmaskResponse r = Take(sim.sites[0].Unmask(request));
    elapsed += std::chrono::duration<double>(Clock::now() - t0).count();
    benchmark::DoNotOptimize(r.shares.data());
    state.SetIterationTime(elapsed);
  }
  state.counters["k"] = sim.sites[0].graph().degree();
}
BENCHMARK(BM_SiteRound)
    ->Arg(10)
    ->Arg(50)
    ->UseManualTime()
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

void BM_ServerRound(benchmark::State& state) {
  const uint32_t n = static_cast<uint32_t>(state.range(0));
  const uint32_t drops = static_cast<uint32_t>(state.range(1));
  Sim sim = MakeSim(n);
  double unused = 0;
  StartRound(sim, 0, &unused);
  const Server after_share = *sim.server;  // copied per iteration
  std::set<uint32_t> dropped;
  for (uint32_t i = 0; i < drops; ++i) dropped.insert(n - i * 3);  // spread over the ring
  std::vector<MaskedInput> inputs;
  std::vector<uint32_t> x(kWords, 1);
  for (Site& site : sim.sites) {
    if (dropped.count(site.id())) continue;
    inputs.push_back(Take(site.MaskInput(Take(sim.server->SharesFor(site.id())), x)));
  }
  Server probe = after_share;
  for (const MaskedInput& y : inputs) Check(probe.AddMaskedInput(y));
  const UnmaskRequest request = Take(probe.CloseMaskStage());
  std::map<uint32_t, Signature64> signatures;  // the consistency round
  for (Site& site : sim.sites) {
    if (dropped.count(site.id())) continue;
    signatures[site.id()] = Take(site.SignSurvivors(request.survivors));
    Check(probe.AddConsistencySignature(site.id(), signatures[site.id()]));
  }
  std::vector<UnmaskResponse> responses;
  for (Site& site : sim.sites) {
    if (!dropped.count(site.id())) responses.push_back(Take(site.Unmask(probe.RequestFor(site.id()))));
  }
  for (auto _ : state) {
    state.PauseTiming();
    Server server = after_share;
    state.ResumeTiming();
    for (const MaskedInput& y : inputs) Check(server.AddMaskedInput(y));
    Check(server.CloseMaskStage().status());
    for (const auto& [id, signature] : signatures) Check(server.AddConsistencySignature(id, signature));
    for (const UnmaskResponse& r : responses) Check(server.AddUnmaskResponse(r));
    std::vector<uint32_t> sum = Take(server.Finish());
    if (sum[0] != n - drops) std::abort();  // every site sent x = 1
    benchmark::DoNotOptimize(sum.data());
  }
  state.counters["k"] = sim.server->graph().degree();
}
BENCHMARK(BM_ServerRound)
    ->Args({10, 0})
    ->Args({10, 1})
    ->Args({50, 0})
    ->Args({50, 5})
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fedsmear::secagg

BENCHMARK_MAIN();
