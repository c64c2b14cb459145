// FedAvgM: FedAvg with server momentum (Hsu, Qi and Brown 2019, "Measuring the Effects of
// Non-Identical Data Distribution for Federated Visual Classification"). Per value of every
// trainable tensor, with delta the round's mean delta (the sum's mean minus the global model):
//     v <- momentum * v + delta;     w <- w + server_lr * v
// BN running statistics take the mean directly (they are estimates, not trained), and binary
// latent weights are clipped to +-latent_clip so that momentum cannot pile up magnitudes a site
// would never reach. momentum 0 and server_lr 1 is FedAvg. v survives restarts (SaveState).
// Thread-safety and ownership: see coordinator/strategy.h.
#include <algorithm>

#include "common/le_bytes.h"
#include "coordinator/strategy_registry.h"

namespace fedsmear {
namespace {

struct FedAvgMParams {
  double server_lr = 1.0;
  double momentum = 0.9;
  double latent_clip = 1.3;
};

// State layout, all little-endian: u32 version (1), u64 tensors, per tensor u64 n and n f32.
constexpr uint32_t kStateVersion = 1;

class FedAvgM : public Strategy {
 public:
  FedAvgM(double fraction, int min_sites, FedAvgMParams params, int threads)
      : Strategy(fraction, min_sites, threads), params_(params) {}
  std::string name() const override { return "fedavgm"; }

  Result<ModelState> Finish(int, const ModelState& global, const RoundSum& sum) override {
    if (sum.spec.binary_votes) return Internal("fedavgm finishes from deltas only");
    ASSIGN_OR_RETURN(ModelState mean, sum.Mean());
    RETURN_IF_ERROR(CheckSameLayout(global, mean));
    if (velocity_.size() != global.tensors.size()) {
      velocity_.clear();
      for (const NamedTensor& t : global.tensors) velocity_.emplace_back(t.values.size(), 0.f);
    }
    ModelState next = global;
    for (size_t i = 0; i < next.tensors.size(); ++i) {
      NamedTensor& w = next.tensors[i];
      const std::vector<float>& avg = mean.tensors[i].values;
      std::vector<float>& v = velocity_[i];
      if (v.size() != w.values.size()) return Corrupt("fedavgm state does not fit the model");
      if (w.kind == TensorKind::kStat) {
        w.values = avg;
        continue;
      }
      for (size_t k = 0; k < w.values.size(); ++k) {
        const double delta = static_cast<double>(avg[k]) - w.values[k];
        v[k] = static_cast<float>(params_.momentum * v[k] + delta);
        double x = w.values[k] + params_.server_lr * v[k];
        if (w.kind == TensorKind::kBinary) {
          x = std::clamp(x, -params_.latent_clip, params_.latent_clip);
        }
        w.values[k] = static_cast<float>(x);
      }
    }
    return next;
  }

  std::string SaveState() const override {
    std::string out;
    if (velocity_.empty()) return out;
    AppendLe32(out, kStateVersion);
    AppendLe64(out, velocity_.size());
    for (const std::vector<float>& v : velocity_) {
      AppendLe64(out, v.size());
      AppendLeF32s(out, v);
    }
    return out;
  }

  Status LoadState(const std::string& bytes) override {
    std::vector<std::vector<float>> velocity;
    LeReader in(bytes);
    uint32_t version = 0;
    uint64_t tensors = 0;
    if (!bytes.empty()) {
      if (!in.U32(&version) || version != kStateVersion) {
        return Corrupt("fedavgm state has an unknown version");
      }
      if (!in.U64(&tensors) || tensors > in.remaining() / 8) {
        return Corrupt("truncated fedavgm state");
      }
    }
    for (uint64_t i = 0; i < tensors; ++i) {
      uint64_t n = 0;
      if (!in.U64(&n) || !in.F32s(n, &velocity.emplace_back())) {
        return Corrupt("truncated fedavgm state");
      }
    }
    if (!in.done()) return Corrupt("trailing bytes in fedavgm state");
    velocity_ = std::move(velocity);
    return Status::Ok();
  }

 private:
  FedAvgMParams params_;
  std::vector<std::vector<float>> velocity_;  // per tensor; empty until the first round
};

}  // namespace

StrategyEntry FedAvgMEntry() {
  const FedAvgMParams d;
  return {"fedavgm",
          "FedAvg with server momentum: v = momentum * v + mean delta, w += server_lr * v (Hsu "
          "et al. 2019)",
          {{"server_lr", d.server_lr, 1e-4, 10, "server learning rate on the momentum"},
           {"momentum", d.momentum, 0, 0.999, "server momentum (0 with server_lr 1: FedAvg)"},
           {"latent_clip", d.latent_clip, 0.01, 100, "clip of binary latent weights"}},
          [](const CoordinatorConfig& c, const StrategyParams& p)
              -> Result<std::unique_ptr<Strategy>> {
            FedAvgMParams params;
            ASSIGN_OR_RETURN(params.server_lr, p.Get("server_lr"));
            ASSIGN_OR_RETURN(params.momentum, p.Get("momentum"));
            ASSIGN_OR_RETURN(params.latent_clip, p.Get("latent_clip"));
            return NewStrategy<FedAvgM>(c.fraction, c.min_sites, params,
                                        c.aggregation_threads);
          }};
}

}  // namespace fedsmear
