// Mutation fuzzing without a fuzzing engine (Debian's gcc has no libFuzzer): each seed (a real
// encoding) is mutated many times with bit flips, byte sets, truncation, duplication and
// interesting integers, and a decoder runs on every result. The decoder must return a value or
// a Status for each input, never crash, hang or read out of bounds (run under ASan/UBSan to
// see the last one; scripts/fuzz does). The run is reproducible from the seed number.
// FEDSMEAR_FUZZ_ITERATIONS sets mutations per seed (default 300, quick for ctest).
// Header-only test helper; no state.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace fedsmear::testing {

inline int FuzzIterations() {
  const char* env = std::getenv("FEDSMEAR_FUZZ_ITERATIONS");
  const int n = env ? std::atoi(env) : 0;
  return n > 0 ? n : 300;
}

inline std::string Mutate(std::string s, std::mt19937& rng) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    const size_t pos = s.empty() ? 0 : rng() % s.size();
    switch (rng() % 7) {
      case 0:  // flip a bit
        if (!s.empty()) s[pos] = static_cast<char>(s[pos] ^ (1 << (rng() % 8)));
        break;
      case 1:  // set a byte
        if (!s.empty()) s[pos] = static_cast<char>(rng());
        break;
      case 2:  // truncate
        s.resize(pos);
        break;
      case 3:  // duplicate a chunk
        if (!s.empty()) s.insert(pos, s.substr(pos, 1 + rng() % 16));
        break;
      case 4:  // delete a chunk
        if (!s.empty()) s.erase(pos, 1 + rng() % 16);
        break;
      default: {  // an interesting little-endian integer (sizes, counts, lengths)
        static const uint64_t kValues[] = {0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff,
                                           0xffffffff, 0xffffffffffffffffULL, 1ULL << 32};
        const uint64_t v = kValues[rng() % (sizeof(kValues) / sizeof(kValues[0]))];
        const size_t width = size_t{1} << (rng() % 4);  // 1, 2, 4 or 8 bytes
        for (size_t b = 0; b < width && pos + b < s.size(); ++b) {
          s[pos + b] = static_cast<char>((v >> (8 * b)) & 0xff);
        }
      }
    }
  }
  return s;
}

// Runs `decode` on every seed and FuzzIterations() mutations of each; returns how many inputs
// decoded successfully (so a test can check the seeds were valid).
inline int FuzzDecoder(const std::vector<std::string>& seeds,
                       const std::function<bool(const std::string&)>& decode,
                       uint32_t rng_seed = 1) {
  std::mt19937 rng(rng_seed);
  int ok = 0;
  for (const std::string& seed : seeds) {
    ok += decode(seed);
    std::string current = seed;
    for (int i = 0; i < FuzzIterations(); ++i) {
      // Mostly mutate the seed, sometimes keep mutating the last mutant (deeper changes).
      current = Mutate(rng() % 4 == 0 ? current : seed, rng);
      ok += decode(current);
    }
  }
  return ok;
}

}  // namespace fedsmear::testing
