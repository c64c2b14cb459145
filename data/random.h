// Portable seeded random helpers for the data library.
//
// The standard distributions (uniform_int_distribution, normal_distribution, std::shuffle, ...)
// are implementation-defined, so the same seed may give different splits on libstdc++ and libc++.
// Everything that must be reproducible across machines (splits, partitions, augmentation,
// synthetic images) draws through these helpers, which only rely on std::mt19937's exactly
// specified output sequence. Thread-safety: free functions; each caller owns its engine.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace fedsmear {

// Mixes values into one 32-bit seed (splitmix64 finaliser), e.g. SeedFrom(seed, epoch, index).
inline uint32_t MixSeed(uint64_t a, uint64_t b = 0, uint64_t c = 0, uint64_t d = 0) {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (uint64_t v : {a, b, c, d}) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    h ^= h >> 31;
  }
  return static_cast<uint32_t>(h ^ (h >> 32));
}

// Uniform in [0, 1) with 53 random bits.
inline double Uniform01(std::mt19937& rng) {
  uint64_t hi = rng() >> 5;  // 27 bits
  uint64_t lo = rng() >> 6;  // 26 bits
  return static_cast<double>((hi << 26) | lo) * (1.0 / 9007199254740992.0);
}

// Uniform in [lo, hi).
inline double UniformReal(std::mt19937& rng, double lo, double hi) {
  return lo + (hi - lo) * Uniform01(rng);
}

// Uniform integer in [0, n) without modulo bias; n must be > 0.
inline uint32_t UniformIndex(std::mt19937& rng, uint32_t n) {
  const uint32_t limit = UINT32_MAX - UINT32_MAX % n;
  uint32_t x;
  do {
    x = rng();
  } while (x >= limit);
  return x % n;
}

inline bool Bernoulli(std::mt19937& rng, double p) { return Uniform01(rng) < p; }

// Standard normal (Box-Muller; one value per call).
inline double StandardNormal(std::mt19937& rng) {
  double u1 = Uniform01(rng);
  double u2 = Uniform01(rng);
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// Gamma(shape, 1) by Marsaglia-Tsang; shape > 0.
inline double GammaSample(std::mt19937& rng, double shape) {
  if (shape < 1.0) {
    double u = Uniform01(rng);
    if (u < 1e-300) u = 1e-300;
    return GammaSample(rng, shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x = StandardNormal(rng);
    double v = 1.0 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = Uniform01(rng);
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
  }
}

// Fisher-Yates shuffle.
template <typename T>
void Shuffle(std::vector<T>* v, std::mt19937& rng) {
  for (size_t i = v->size(); i > 1; --i) {
    size_t j = UniformIndex(rng, static_cast<uint32_t>(i));
    std::swap((*v)[i - 1], (*v)[j]);
  }
}

}  // namespace fedsmear
