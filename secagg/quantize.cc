#include "secagg/quantize.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "secagg/crypto.h"
#include "secagg/prg.h"

namespace fedsmear::secagg {
namespace {

constexpr size_t kBlockWords = 16 * 1024;

Status CheckParams(const QuantizationParams& p) {
  if (!(p.clip > 0.0f) || !std::isfinite(p.clip))
    return InvalidArgument("quantize: clip must be > 0");
  if (p.mask_bits < 1 || p.mask_bits > 32)
    return InvalidArgument("quantize: mask_bits must be 1..32");
  if (p.max_sites < 1) return InvalidArgument("quantize: max_sites must be >= 1");
  return Status::Ok();
}

}  // namespace

Result<uint32_t> QuantizationLevels(const QuantizationParams& params) {
  RETURN_IF_ERROR(CheckParams(params));
  const uint64_t top = (uint64_t{1} << params.mask_bits) - 1;
  // Half the ring stays free: a sum above m * R cannot come from m inputs in [0, R].
  const uint64_t levels = top / (2 * uint64_t{params.max_sites});
  if (levels < 1) {
    return InvalidArgument("quantize: 2^" + std::to_string(params.mask_bits) +
                           " is too small for " + std::to_string(params.max_sites) + " sites");
  }
  return static_cast<uint32_t>(levels);
}

Result<std::vector<uint32_t>> Quantize(const float* values, size_t count,
                                       const QuantizationParams& params, uint64_t seed) {
  ASSIGN_OR_RETURN(uint32_t levels, QuantizationLevels(params));
  std::array<uint8_t, 32> key{};
  for (int b = 0; b < 8; ++b) key[b] = static_cast<uint8_t>(seed >> (8 * b));
  ASSIGN_OR_RETURN(AesCtrPrg prg, AesCtrPrg::Create(Secret32(key)));
  const double c = params.clip;
  const double scale = static_cast<double>(levels) / (2.0 * c);
  std::vector<uint32_t> out(count);
  std::vector<uint32_t> noise(std::min(count, kBlockWords));
  for (size_t done = 0; done < count;) {
    const size_t n = std::min(count - done, kBlockWords);
    RETURN_IF_ERROR(prg.FillWords32(noise.data(), n));
    for (size_t i = 0; i < n; ++i) {
      const float v = values[done + i];
      if (std::isnan(v))
        return InvalidArgument("quantize: NaN at index " + std::to_string(done + i));
      const double x = std::clamp(static_cast<double>(v), -c, c);
      const double scaled = std::clamp((x + c) * scale, 0.0, static_cast<double>(levels));
      const double floor_v = std::floor(scaled);
      const double frac = scaled - floor_v;
      const double u = noise[i] * (1.0 / 4294967296.0);  // uniform in [0, 1)
      uint64_t q = static_cast<uint64_t>(floor_v) + (u < frac ? 1 : 0);
      out[done + i] = static_cast<uint32_t>(std::min<uint64_t>(q, levels));
    }
    done += n;
  }
  return out;
}

Result<std::vector<float>> DequantizeMean(const std::vector<uint32_t>& sum,
                                          const QuantizationParams& params, uint32_t contributors) {
  ASSIGN_OR_RETURN(uint32_t levels, QuantizationLevels(params));
  if (contributors < 1 || contributors > params.max_sites) {
    return InvalidArgument("quantize: contributors must be in 1..max_sites");
  }
  const double c = params.clip;
  const double factor = 2.0 * c / (static_cast<double>(levels) * contributors);
  const uint64_t most = static_cast<uint64_t>(levels) * contributors;
  std::vector<float> out(sum.size());
  for (size_t i = 0; i < sum.size(); ++i) {
    if (sum[i] > most) {
      return Corrupt("quantize: value " + std::to_string(i) + " of the sum is " +
                             std::to_string(sum[i]) + ", more than " +
                             std::to_string(contributors) + " inputs in [0, " +
                             std::to_string(levels) + "] can add up to");
    }
    out[i] = static_cast<float>(static_cast<double>(sum[i]) * factor - c);
  }
  return out;
}

uint32_t SignVoteBits(uint32_t num_sites, uint32_t max_weight) {
  const uint64_t top = static_cast<uint64_t>(num_sites) * max_weight;  // values 0..top
  uint32_t bits = 0;
  while (bits < 64 && (uint64_t{1} << bits) <= top) ++bits;
  return bits;
}

}  // namespace fedsmear::secagg
