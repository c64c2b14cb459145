// Quantization between float model updates and the integers SecAgg+ sums.
//
// What: Quantize clips each value to [-c, c], maps it affinely onto [0, R] and rounds
// stochastically (unbiased: E[q] equals the exact scaled value), using an AES-CTR stream keyed by
// the caller's seed so results are reproducible. R = floor((2^bits - 1) / 2n) for at most n
// contributors, which guarantees 2n * R < 2^bits: the modular sum of all sites never wraps, so the
// unmasked sum is the true integer sum, and half the ring is headroom: DequantizeMean refuses a
// sum above m * R, which m inputs in [0, R] cannot make (a site that masks noise instead of an
// input is caught with probability about 1/2 per word). A site can still send any input within
// [0, R]: its influence is bounded by the clip, not excluded. DequantizeMean turns a sum over
// m <= n contributors back into the mean of the clipped floats: mean = (sum / m) / R * 2c - c.
// Resolution is 2c / R per site (bits = 32, n = 50: R = 42,949,672, step ~4.7e-8 * c).
// SignVoteBits gives the per-coordinate width ceil(log2(n * max_weight + 1)) a transport needs to
// pack a sum of n weighted votes in [0, max_weight].
// Thread-safety: pure functions. Ownership: returns new vectors.
// Security notes: the rounding seed should be fresh per round and site (it is not a secret key,
// but reusing it correlates rounding noise across rounds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/status.h"

namespace fedsmear::secagg {

struct QuantizationParams {
  float clip = 1.0f;        // c > 0
  uint32_t mask_bits = 32;  // 1..32, must match Config::mask_bits
  uint32_t max_sites = 0;   // n >= 1, upper bound on the number of summed inputs
};

// R = floor((2^bits - 1) / 2n); kInvalidArgument when R < 1 or parameters are out of range.
Result<uint32_t> QuantizationLevels(const QuantizationParams& params);

// Values in [0, R]. kInvalidArgument on NaN input.
Result<std::vector<uint32_t>> Quantize(const float* values, size_t count,
                                       const QuantizationParams& params, uint64_t seed);

// Mean of the `contributors` (1..max_sites) clipped inputs whose quantized values sum to `sum`.
// kCorrupt when a value of the sum exceeds contributors * R (no such inputs make it).
Result<std::vector<float>> DequantizeMean(const std::vector<uint32_t>& sum,
                                          const QuantizationParams& params, uint32_t contributors);

// ceil(log2(num_sites * max_weight + 1)); 0 when the product is 0.
uint32_t SignVoteBits(uint32_t num_sites, uint32_t max_weight);

}  // namespace fedsmear::secagg
