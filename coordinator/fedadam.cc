// FedAdam: server-side Adam on the averaged delta; its moments survive restarts.
#include "common/le_bytes.h"
#include "coordinator/strategies.h"
#include "coordinator/strategy_registry.h"

namespace fedsmear {
Result<ModelState> FedAdam::Finish(int, const ModelState& global, const RoundSum& sum) {
  if (sum.spec.binary_votes) return Internal("fedadam finishes from deltas only");
  ASSIGN_OR_RETURN(ModelState mean, sum.Mean());
  ModelState next = global;
  RETURN_IF_ERROR(FedAdamStep(mean, params_, &state_, &next));
  return next;
}

// Layout, little-endian: u64 tensors, then per tensor u64 n, n float32 of m, n float32 of v.
std::string FedAdam::SaveState() const {
  std::string out;
  AppendLe64(out, state_.m.size());
  for (size_t i = 0; i < state_.m.size(); ++i) {
    AppendLe64(out, state_.m[i].size());
    AppendLeF32s(out, state_.m[i]);
    AppendLeF32s(out, state_.v[i]);
  }
  return out;
}

Status FedAdam::LoadState(const std::string& bytes) {
  FedAdamState s;
  if (bytes.empty()) {
    state_ = s;
    return Status::Ok();
  }
  LeReader in(bytes);
  uint64_t tensors = 0;
  if (!in.U64(&tensors) || tensors > 100000) return Corrupt("bad FedAdam state");
  s.m.resize(tensors);
  s.v.resize(tensors);
  for (uint64_t i = 0; i < tensors; ++i) {
    uint64_t n = 0;
    if (!in.U64(&n) || !in.F32s(n, &s.m[i]) || !in.F32s(n, &s.v[i])) {
      return Corrupt("truncated FedAdam state");
    }
  }
  if (!in.done()) return Corrupt("trailing bytes in FedAdam state");
  state_ = std::move(s);
  return Status::Ok();
}

StrategyEntry FedAdamEntry() {
  return {"fedadam",
          "server-side Adam on the mean delta, learning rate server_lr (Reddi et al. 2021)",
          {{"server_lr", 0.01, 1e-6, 10, "the server optimizer's learning rate",
            /*top_level_alias=*/true}},
          [](const CoordinatorConfig& c, const StrategyParams& params)
              -> Result<std::unique_ptr<Strategy>> {
            FedAdamParams p;
            ASSIGN_OR_RETURN(p.lr, params.Get("server_lr"));
            return NewStrategy<FedAdam>(c.fraction, c.min_sites, p, c.aggregation_threads);
          }};
}

}  // namespace fedsmear
