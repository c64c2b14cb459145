#include "coordinator/vote.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "coordinator/strategy_registry.h"
#include "models/contribution.h"

namespace fedsmear {
namespace {

// dst[k] += bit k ? w : -w, for n sign bits packed LSB first. `table` holds, for each byte
// value, its 8 signed weights, so that each byte is one vectorisable 8-wide add.
void AddSignBits(const uint8_t* bits, int64_t n, const double* table, double* dst) {
  const int64_t full = n / 8;
  for (int64_t b = 0; b < full; ++b) {
    const double* t = table + 8 * static_cast<size_t>(bits[b]);
    double* d = dst + 8 * b;
    for (int j = 0; j < 8; ++j) d[j] += t[j];
  }
  for (int64_t k = 8 * full; k < n; ++k) {
    const size_t bit = (bits[k >> 3] >> (k & 7)) & 1u;
    dst[k] += table[8 * bit];  // byte value 0 or 1, position 0: -w or +w
  }
}

}  // namespace

float NextVoteValue(float previous, double share, double momentum, double flip_share) {
  const double m = momentum * static_cast<double>(previous) + (1 - momentum) * share;
  const double g = previous >= 0.f ? 1.0 : -1.0;
  const double next = g * m < 1 - 2 * flip_share ? -g : g;
  if (m == 0 || (m > 0) != (next > 0)) return static_cast<float>(next * kVoteTieMagnitude);
  return static_cast<float>(m);
}

VoteAccumulator::VoteAccumulator(const ModelState& global) : global_(global) {
  sums_.reserve(global_.tensors.size());
  for (const NamedTensor& t : global_.tensors) sums_.emplace_back(t.values.size(), 0.0);
}

Status VoteAccumulator::CheckWeight(double weight) const {
  if (!(weight > 0) || !std::isfinite(weight)) {
    return InvalidArgument("an update must count at least one sample");
  }
  return Status::Ok();
}

Status VoteAccumulator::Add(const ModelState& s, double weight) {
  RETURN_IF_ERROR(CheckWeight(weight));
  RETURN_IF_ERROR(CheckSameLayout(global_, s));
  RETURN_IF_ERROR(CheckFinite(s));
  const double w = weight;
  for (size_t i = 0; i < s.tensors.size(); ++i) {
    const std::vector<float>& x = s.tensors[i].values;
    double* dst = sums_[i].data();
    if (s.tensors[i].kind == TensorKind::kBinary) {
      for (size_t k = 0; k < x.size(); ++k) dst[k] += VotesPlus(x[k]) ? w : -w;
    } else {
      for (size_t k = 0; k < x.size(); ++k) dst[k] += w * x[k];
    }
  }
  total_weight_ += w;
  ++count_;
  return Status::Ok();
}

Status VoteAccumulator::AddEncoded(std::string_view bytes, uint64_t num_samples) {
  RETURN_IF_ERROR(CheckWeight(static_cast<double>(num_samples)));
  ASSIGN_OR_RETURN(EncodedUpdateView view, ParseEncodedUpdate(bytes, global_));
  // A binary codec that sends a sign bitmap (sign1, sign1_scaled) is counted bit by bit; f32
  // values before the bits (a scale) must be finite.
  const bool bits = view.spec.binary->signs.packed;
  const size_t skip = view.spec.binary->signs.bits_at;
  // Decode and check everything that is not a sign block before touching the sums.
  std::vector<size_t> offset(global_.tensors.size(), 0);
  size_t needed = 0;
  for (size_t i = 0; i < global_.tensors.size(); ++i) {
    const NamedTensor& t = global_.tensors[i];
    if (bits && t.kind == TensorKind::kBinary) {
      for (size_t at = 0; at + 4 <= skip; at += 4) {
        float scale;
        std::memcpy(&scale, view.blocks[i].data() + at, 4);
        if (!std::isfinite(scale)) return InvalidArgument("tensor " + t.name + " holds NaN or Inf");
      }
      continue;
    }
    offset[i] = needed;
    needed += t.values.size();
  }
  scratch_.resize(needed);
  for (size_t i = 0; i < global_.tensors.size(); ++i) {
    const NamedTensor& t = global_.tensors[i];
    if (bits && t.kind == TensorKind::kBinary) continue;
    float* out = scratch_.data() + offset[i];
    DecodeBlock(view.spec, t, view.blocks[i], out);
    if (!AllFinite(out, t.values.size())) {
      return InvalidArgument("tensor " + t.name + " holds NaN or Inf");
    }
  }
  const double w = static_cast<double>(num_samples);
  sign_table_.resize(256 * 8);
  for (size_t byte = 0; byte < 256; ++byte) {
    for (size_t j = 0; j < 8; ++j) sign_table_[8 * byte + j] = ((byte >> j) & 1) ? w : -w;
  }
  for (size_t i = 0; i < global_.tensors.size(); ++i) {
    const NamedTensor& t = global_.tensors[i];
    double* dst = sums_[i].data();
    const size_t n = t.values.size();
    if (bits && t.kind == TensorKind::kBinary) {
      AddSignBits(reinterpret_cast<const uint8_t*>(view.blocks[i].data() + skip),
                  static_cast<int64_t>(n), sign_table_.data(), dst);
    } else if (t.kind == TensorKind::kBinary) {
      const float* x = scratch_.data() + offset[i];
      for (size_t k = 0; k < n; ++k) dst[k] += VotesPlus(x[k]) ? w : -w;
    } else {
      const float* x = scratch_.data() + offset[i];
      for (size_t k = 0; k < n; ++k) dst[k] += w * x[k];
    }
  }
  total_weight_ += w;
  ++count_;
  return Status::Ok();
}

RoundSum VoteAccumulator::Sum() const {
  RoundSum out = EmptySum(global_, SumSpec{true});
  for (size_t i = 0; i < global_.tensors.size(); ++i) {
    const NamedTensor& t = global_.tensors[i];
    std::vector<double>& d = out.sums[i];
    if (t.kind == TensorKind::kBinary) {
      d = sums_[i];
      continue;
    }
    for (size_t k = 0; k < d.size(); ++k) {
      d[k] = sums_[i][k] - total_weight_ * static_cast<double>(t.values[k]);
    }
  }
  out.weight = out.vote_weight = total_weight_;
  out.count = count_;
  return out;
}

Result<ModelState> SignVoteStrategy::Finish(int /*round*/, const ModelState& global,
                                            const RoundSum& sum) {
  if (!sum.spec.binary_votes) return Internal("fedvote finishes from sign votes only");
  RETURN_IF_ERROR(CheckSameLayout(global, sum.base));
  ASSIGN_OR_RETURN(ModelState out, sum.Mean());
  for (size_t i = 0; i < out.tensors.size(); ++i) {
    NamedTensor& t = out.tensors[i];
    if (t.kind != TensorKind::kBinary) continue;
    const std::vector<float>& previous = global.tensors[i].values;
    for (size_t k = 0; k < t.values.size(); ++k) {
      t.values[k] = NextVoteValue(previous[k], t.values[k], momentum_, flip_share_);
    }
  }
  return out;
}

StrategyEntry FedVoteEntry() {
  return {"fedvote",
          "sign vote of the binary weights (server momentum vote_momentum), mean of the floats",
          {{"flip_share", kDefaultFlipShare, 0.05, 0.95,
            "a global sign flips when more than this sample-weighted share of the sites votes "
            "against it: 0.5 majority, lower (the default) lets a minority's change through, "
            "higher needs a supermajority (coordinator/vote.h)"},
           {"vote_momentum", 0.0, 0, 0.99,
            "server momentum on the vote shares (0 = none, coordinator/vote.h)",
            /*top_level_alias=*/true}},
          [](const CoordinatorConfig& c, const StrategyParams& p)
              -> Result<std::unique_ptr<Strategy>> {
            ASSIGN_OR_RETURN(double flip_share, p.Get("flip_share"));
            ASSIGN_OR_RETURN(double momentum, p.Get("vote_momentum"));
            return NewStrategy<SignVoteStrategy>(c.fraction, c.min_sites, momentum, flip_share);
          }};
}

}  // namespace fedsmear
