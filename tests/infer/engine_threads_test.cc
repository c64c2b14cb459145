// The binary engine's threads (infer/engine.h, infer/thread_pool.h), torch-free: the pool runs
// every task once; split kernels equal whole-image ones; logits are bit-identical for 1, 2 and
// 3 threads and every split, at batch 1 and 5, on bdn-tiny and a bdn28-shaped random model;
// concurrent Forward calls on one engine agree; the batch-norm pass is thread-count independent.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "infer/binary_conv.h"
#include "infer/engine.h"
#include "infer/float_ops.h"
#include "infer/thread_pool.h"
#include "tests/infer/random_state.h"

namespace fedsmear::infer {
namespace {

std::vector<Isa> Isas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kReference}) {
    if (IsaSupported(isa)) isas.push_back(isa);
  }
  return isas;
}

TEST(ThreadPoolTest, RunsEveryTaskOnceOnEveryWorkerCount) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (int tasks : {0, 1, 2, 7, 100}) {
      for (int round = 0; round < 50; ++round) {
        std::vector<std::atomic<int>> hits(tasks);
        std::atomic<int> bad_worker{0};
        ASSERT_TRUE(pool.TryRun(tasks, [&](int t, int w) {
          hits[t].fetch_add(1);
          if (w < 0 || w >= threads) bad_worker.fetch_add(1);
        }));
        for (int t = 0; t < tasks; ++t) ASSERT_EQ(hits[t].load(), 1) << threads << " " << tasks;
        EXPECT_EQ(bad_worker.load(), 0);
      }
    }
  }
}

TEST(ThreadPoolTest, BusyPoolRefusesAndMovedPoolWorks) {
  ThreadPool pool(2);
  std::atomic<int> refused{0}, ran{0};
  ASSERT_TRUE(pool.TryRun(4, [&](int, int) {
    // A region from inside a task finds the pool busy.
    if (!pool.TryRun(3, [&](int, int) { ran.fetch_add(1); })) refused.fetch_add(1);
  }));
  EXPECT_EQ(refused.load(), 4);
  EXPECT_EQ(ran.load(), 0);
  ThreadPool moved = std::move(pool);
  std::atomic<int> count{0};
  ASSERT_TRUE(moved.TryRun(10, [&](int, int) { count.fetch_add(1); }));
  EXPECT_EQ(count.load(), 10);
  pool = ThreadPool(3);  // assigning to the moved-from pool
  ASSERT_TRUE(pool.TryRun(10, [&](int, int) { count.fetch_add(1); }));
  EXPECT_EQ(count.load(), 20);
}

TEST(SplitKernelsTest, PixelRangesEqualWholeImage) {
  SplitMix rng(5);
  const int h = 7, w = 5, c = 100, out = 24;
  std::vector<float> weights(static_cast<size_t>(out) * c * 9), x(static_cast<size_t>(h) * w * c);
  for (float& v : weights) v = rng.Uniform(-1, 1);
  for (float& v : x) v = rng.Uniform(-1, 1);
  const PackedConvWeights pw = PackConvWeights(weights.data(), out, c);
  std::vector<uint64_t> bits(static_cast<size_t>(h) * w * pw.words);
  std::vector<float> scale(c, 1.0f), shift(c, 0.0f);
  for (Isa isa : Isas()) {
    PackSigns(x.data(), h * w, c, c, scale.data(), shift.data(), bits.data(), isa);
    std::vector<float> whole(static_cast<size_t>(h) * w * out, -1), parts = whole;
    BinaryConv3x3(bits.data(), h, w, pw, whole.data(), out, isa);
    for (PixelRange r :
         {PixelRange{0, 3}, PixelRange{3, 4}, PixelRange{4, 22}, PixelRange{22, 35}}) {
      BinaryConv3x3(bits.data(), h, w, pw, r, parts.data(), out, isa);
    }
    EXPECT_EQ(std::memcmp(whole.data(), parts.data(), whole.size() * sizeof(float)), 0)
        << IsaName(isa);
  }
  // Im2col and MaxPool by pieces.
  const int k = 3 * 3 * c, ho = ConvOut(h, 3, 2, 1), wo = ConvOut(w, 3, 2, 1);
  std::vector<float> cols(static_cast<size_t>(ho) * wo * k, -1), cols2 = cols;
  Im2col(x.data(), h, w, c, 3, 2, 1, cols.data());
  Im2col(x.data(), h, w, c, 3, 2, 1, PixelRange{0, 2}, cols2.data());
  Im2col(x.data(), h, w, c, 3, 2, 1, PixelRange{2, ho * wo}, cols2.data());
  EXPECT_EQ(cols, cols2);
  std::vector<float> pooled(static_cast<size_t>(ho) * wo * c, -1), pooled2 = pooled;
  MaxPool(x.data(), h, w, c, c, 3, 2, 1, nullptr, true, pooled.data(), c);
  MaxPool(x.data(), h, w, c, c, 3, 2, 1, nullptr, true, PixelRange{0, 5}, pooled2.data(), c);
  MaxPool(x.data(), h, w, c, c, 3, 2, 1, nullptr, true, PixelRange{5, ho * wo}, pooled2.data(), c);
  EXPECT_EQ(pooled, pooled2);
}

TEST(SplitKernelsTest, PackSignsAndGemmTilesMatchReference) {
  // Sign packing with partial words and scalar tails; GEMM with every remainder of row tiles.
  SplitMix rng(9);
  for (int channels : {1, 7, 8, 63, 64, 65, 100, 130, 200}) {
    const int pixels = 5, stride = channels + 3;
    std::vector<float> x(static_cast<size_t>(pixels) * stride), scale(channels), shift(channels);
    for (float& v : x) v = rng.Uniform(-1, 1);
    for (int c = 0; c < channels; ++c) scale[c] = rng.Uniform(-2, 2), shift[c] = rng.Uniform(-1, 1);
    std::vector<uint64_t> want(static_cast<size_t>(pixels) * PackedWords(channels), 7), got = want;
    PackSigns(x.data(), pixels, channels, stride, scale.data(), shift.data(), want.data(),
              Isa::kReference);
    for (Isa isa : Isas()) {
      PackSigns(x.data(), pixels, channels, stride, scale.data(), shift.data(), got.data(), isa);
      EXPECT_EQ(got, want) << channels << " " << IsaName(isa);
    }
  }
  for (int m = 1; m <= 13; ++m) {
    const int k = 37, n = 40;
    std::vector<float> a(static_cast<size_t>(m) * k), w(static_cast<size_t>(n) * k);
    for (float& v : a) v = rng.Uniform(-1, 1);
    for (float& v : w) v = rng.Uniform(-1, 1);
    const PackedMatrix b = PackMatrix(w.data(), n, k);
    std::vector<float> one(static_cast<size_t>(b.n_padded)),
        all(static_cast<size_t>(m) * b.n_padded);
    for (Isa isa : Isas()) {
      Gemm(a.data(), m, k, b, all.data(), b.n_padded, isa);
      for (int i = 0; i < m; ++i) {  // each row alone: the same bits as within any tile
        Gemm(a.data() + static_cast<size_t>(i) * k, 1, k, b, one.data(), b.n_padded, isa);
        EXPECT_EQ(std::memcmp(one.data(), all.data() + static_cast<size_t>(i) * b.n_padded,
                              one.size() * sizeof(float)),
                  0)
            << m << " " << i << " " << IsaName(isa);
      }
    }
  }
}

struct Model {
  const char* arch;
  int size;
};

std::vector<float> ForwardTwice(const ModelState& state, Isa isa, int threads, ThreadSplit split,
                                const std::vector<float>& images, int n) {
  EngineOptions o;
  o.isa = isa;
  o.threads = threads;
  o.split = split;
  Result<BinaryEngine> engine = BinaryEngine::FromState(state, o);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return {};
  std::vector<float> logits(static_cast<size_t>(n) * state.meta.classes, NAN);
  engine->Forward(images.data(), n, logits.data());
  engine->Forward(images.data(), n, logits.data());  // again: reused scratch buffers
  return logits;
}

TEST(EngineThreadsTest, LogitsBitIdenticalForAnyThreadCountAndSplit) {
  // bdn-tiny with the small stem (odd sizes: 37 -> 18 -> 9 -> 4 px) and the large one; bdn28's
  // shape at 64 px (16 -> 8 -> 4 -> 2 px blocks).
  for (const Model& m : {Model{"bdn-tiny", 37}, Model{"bdn-tiny", 64}, Model{"bdn28", 64}}) {
    Result<ModelState> state = RandomState(m.arch, 7, m.size, 11);
    ASSERT_TRUE(state.ok()) << state.status();
    for (int n : {1, 5}) {
      const std::vector<float> images = RandomImages(n, m.size, 100 + n);
      for (Isa isa : Isas()) {
        if (isa == Isa::kReference && std::string(m.arch) == "bdn28") continue;  // slow
        const std::vector<float> want = ForwardTwice(*state, isa, 1, ThreadSplit::kAuto, images, n);
        for (float v : want) ASSERT_TRUE(std::isfinite(v));
        for (int threads : {2, 3}) {
          for (ThreadSplit split :
               {ThreadSplit::kAuto, ThreadSplit::kImages, ThreadSplit::kLayers}) {
            const std::vector<float> got = ForwardTwice(*state, isa, threads, split, images, n);
            ASSERT_EQ(got.size(), want.size());
            EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0)
                << m.arch << " " << m.size << " px, batch " << n << ", " << IsaName(isa) << ", "
                << threads << " threads, split " << static_cast<int>(split);
          }
        }
      }
    }
  }
}

TEST(EngineThreadsTest, ConcurrentCallsShareTheEngine) {
  Result<ModelState> state = RandomState("bdn-tiny", 5, 64, 3);
  ASSERT_TRUE(state.ok()) << state.status();
  EngineOptions o;
  o.threads = 2;
  Result<BinaryEngine> engine = BinaryEngine::FromState(*state, o);
  ASSERT_TRUE(engine.ok()) << engine.status();
  const int n = 3;
  const std::vector<float> images = RandomImages(n, 64, 9);
  std::vector<float> want(static_cast<size_t>(n) * 5);
  engine->Forward(images.data(), n, want.data());
  std::atomic<int> mismatches{0};
  auto caller = [&] {
    std::vector<float> got(want.size());
    for (int i = 0; i < 20; ++i) {
      for (int batch : {1, n}) {
        engine->Forward(images.data(), batch, got.data());
        if (std::memcmp(got.data(), want.data(), batch * 5 * sizeof(float)) != 0) ++mismatches;
      }
    }
  };
  std::thread a(caller), b(caller);
  caller();
  a.join();
  b.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(EngineThreadsTest, BatchNormStatisticsIndependentOfThreads) {
  Result<ModelState> state = RandomState("bdn-tiny", 4, 64, 8);
  ASSERT_TRUE(state.ok()) << state.status();
  const int n = 5;
  const std::vector<float> images = RandomImages(n, 64, 4);
  std::vector<ModelState> out;
  for (int threads : {1, 2, 3}) {
    EngineOptions o;
    o.threads = threads;
    Result<BinaryEngine> engine = BinaryEngine::FromState(*state, o);
    ASSERT_TRUE(engine.ok()) << engine.status();
    BnStatistics stats;
    ASSERT_TRUE(engine->AccumulateBatchNormStatistics(images.data(), n, &stats).ok());
    out.push_back(*state);
    ASSERT_TRUE(stats.WriteInto(&out.back()).ok());
  }
  for (size_t i = 1; i < out.size(); ++i) {
    for (size_t t = 0; t < out[0].tensors.size(); ++t) {
      EXPECT_EQ(out[i].tensors[t].values, out[0].tensors[t].values) << out[0].tensors[t].name;
    }
  }
}

}  // namespace
}  // namespace fedsmear::infer
