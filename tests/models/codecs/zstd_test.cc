// The zstd frame (models/codecs/zstd.cc): lossless, smaller on compressible payloads, and every
// malformed frame, a decompression bomb included, is a Corrupt Status before any allocation of
// the size it claims.
#include <gtest/gtest.h>
#include <zstd.h>

#include <cstring>
#include <random>
#include <string>

#include "common/sha256.h"
#include "models/codec.h"
#include "models/codecs/codec_registry.h"
#include "tests/fuzz_mutator.h"
#include "tests/models/codecs/golden_state.h"

namespace fedsmear {
namespace {

const FrameCodec& Zstd() { return *Codecs().FindFrame(CodecDirection::kUplink, "zstd"); }

std::string Compressible(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>("fedsmear"[i % 8] ^ (i / 4096));
  return s;
}

TEST(ZstdFrameTest, RoundTripsAndCompresses) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{1} << 20}) {
    const std::string payload = Compressible(n);
    const std::string framed = Zstd().encode(payload);
    EXPECT_LE(framed.size(), Zstd().max_bytes(n));
    if (n >= 1000) {
      EXPECT_LT(framed.size(), n / 10) << n;
    }
    auto back = Zstd().decode(framed, n);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, payload);
  }
}

TEST(ZstdFrameTest, RefusesBadFrames) {
  const std::string payload = Compressible(5000);
  const std::string framed = Zstd().encode(payload);
  auto corrupt = [](const Result<std::string>& r, const std::string& what) {
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << what << ": " << r.status();
  };
  corrupt(Zstd().decode(framed, 4999), "one byte fewer than declared");
  corrupt(Zstd().decode(framed, 5001), "one byte more than declared");
  corrupt(Zstd().decode(framed + framed, 5000), "two frames");
  corrupt(Zstd().decode(framed + 'x', 5000), "trailing byte");
  corrupt(Zstd().decode(framed.substr(0, framed.size() - 1), 5000), "truncated");
  corrupt(Zstd().decode(framed.substr(0, 3), 5000), "shorter than a frame header");
  corrupt(Zstd().decode("", 0), "empty");
  corrupt(Zstd().decode(payload, 5000), "not a frame");
  // A frame without its content size (another zstd writer's default for streams).
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  std::string unsized(ZSTD_compressBound(payload.size()), '\0');
  ZSTD_outBuffer out{unsized.data(), unsized.size(), 0};
  ZSTD_inBuffer in{payload.data(), payload.size(), 0};
  ASSERT_EQ(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(cctx);
  unsized.resize(out.pos);
  corrupt(Zstd().decode(unsized, 5000), "no content size");
  // Every mutation of a frame is refused or decodes to exactly the declared size.
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    const std::string bad = testing::Mutate(framed, rng);
    auto r = Zstd().decode(bad, 5000);
    if (r.ok()) {
      EXPECT_EQ(r->size(), 5000u);
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << r.status();
    }
  }
}

// A few kilobytes that claim 256 MiB, inside a well-formed update (right header, sizes
// within the frame's bound, right checksum): refused from the frame header, nothing allocated.
TEST(ZstdFrameTest, DecompressionBombIsCorrupt) {
  const size_t huge = size_t{1} << 28;
  std::string bomb(ZSTD_compressBound(1 << 20), '\0');
  {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ASSERT_EQ(ZSTD_CCtx_setPledgedSrcSize(cctx, huge), 0u);
    std::string zeros(1 << 20, '\0');
    ZSTD_outBuffer out{bomb.data(), bomb.size(), 0};
    for (size_t done = 0; done < huge; done += zeros.size()) {
      ZSTD_inBuffer in{zeros.data(), zeros.size(), 0};
      const bool last = done + zeros.size() == huge;
      size_t left;
      do {
        left = ZSTD_compressStream2(cctx, &out, &in, last ? ZSTD_e_end : ZSTD_e_continue);
        ASSERT_FALSE(ZSTD_isError(left));
      } while (in.pos < in.size || (last && left != 0));
    }
    ZSTD_freeCCtx(cctx);
    bomb.resize(out.pos);
  }
  ASSERT_LT(bomb.size(), 100000u);
  EXPECT_EQ(ZSTD_getFrameContentSize(bomb.data(), bomb.size()), huge);
  auto direct = Zstd().decode(bomb, 1000);
  EXPECT_EQ(direct.status().code(), StatusCode::kCorrupt) << direct.status();

  // Inside an update: put the bomb where a real frame was and fix up length and checksum.
  const ModelState global = testing::GoldenState(1);
  const std::string good = EncodeUpdate(global, &global, *ParseCodecSpec("f32+zstd"), 1);
  std::string evil = good.substr(0, kCodecHeaderBytes) + bomb;
  const uint64_t length = bomb.size();
  std::memcpy(&evil[20], &length, 8);
  const Digest256 digest = Sha256Of(bomb);
  std::memcpy(&evil[28], digest.data(), digest.size());
  auto r = DecodeUpdate(evil, global);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << r.status();
}

TEST(ZstdFrameTest, FramedUpdatesSurviveMutation) {
  const ModelState global = testing::GoldenState(3), trained = testing::GoldenState(4);
  std::vector<std::string> seeds;
  for (const char* codec : {"f32+zstd", "sign1+q8+zstd", "q8_delta+f16+zstd"}) {
    seeds.push_back(EncodeUpdate(trained, &global, *ParseCodecSpec(codec), 5));
  }
  const int ok = testing::FuzzDecoder(seeds, [&](const std::string& bytes) {
    return DecodeUpdate(bytes, global).ok();
  });
  EXPECT_GE(ok, static_cast<int>(seeds.size()));
}

TEST(ZstdFrameTest, EveryCallOwnsAndFreesItsContexts) {
  // Many encodes and decodes in one process (under ASan/LSan, scripts/fuzz, a leak would show).
  const std::string payload = Compressible(100000);
  for (int i = 0; i < 200; ++i) {
    auto back = Zstd().decode(Zstd().encode(payload), payload.size());
    ASSERT_TRUE(back.ok());
  }
}

}  // namespace
}  // namespace fedsmear
