// FedAdam: server-side Adam on the averaged delta; its moments survive restarts.
#include <cstring>

#include "coordinator/strategies.h"
#include "coordinator/strategy_registry.h"

namespace fedsmear {
namespace {

void PutU64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }

}  // namespace

Result<ModelState> FedAdam::Finish(int, const ModelState& global, const RoundSum& sum) {
  if (sum.spec.binary_votes) return Internal("fedadam finishes from deltas only");
  ASSIGN_OR_RETURN(ModelState mean, sum.Mean());
  ModelState next = global;
  RETURN_IF_ERROR(FedAdamStep(mean, params_, &state_, &next));
  return next;
}

// Layout: u64 tensors, then per tensor u64 n, n floats of m, n floats of v.
std::string FedAdam::SaveState() const {
  std::string out;
  PutU64(out, state_.m.size());
  for (size_t i = 0; i < state_.m.size(); ++i) {
    PutU64(out, state_.m[i].size());
    out.append(reinterpret_cast<const char*>(state_.m[i].data()), state_.m[i].size() * 4);
    out.append(reinterpret_cast<const char*>(state_.v[i].data()), state_.v[i].size() * 4);
  }
  return out;
}

Status FedAdam::LoadState(const std::string& bytes) {
  FedAdamState s;
  if (bytes.empty()) {
    state_ = s;
    return Status::Ok();
  }
  size_t pos = 0;
  auto u64 = [&](uint64_t* v) {
    if (bytes.size() - pos < 8) return false;
    std::memcpy(v, bytes.data() + pos, 8);
    pos += 8;
    return true;
  };
  uint64_t tensors = 0;
  if (!u64(&tensors) || tensors > 100000) return Corrupt("bad FedAdam state");
  s.m.resize(tensors);
  s.v.resize(tensors);
  for (uint64_t i = 0; i < tensors; ++i) {
    uint64_t n = 0;
    if (!u64(&n) || n > (bytes.size() - pos) / 8) return Corrupt("truncated FedAdam state");
    s.m[i].resize(n);
    s.v[i].resize(n);
    std::memcpy(s.m[i].data(), bytes.data() + pos, n * 4);
    std::memcpy(s.v[i].data(), bytes.data() + pos + n * 4, n * 4);
    pos += n * 8;
  }
  if (pos != bytes.size()) return Corrupt("trailing bytes in FedAdam state");
  state_ = std::move(s);
  return Status::Ok();
}

StrategyEntry FedAdamEntry() {
  return {"fedadam",
          "server-side Adam on the mean delta, learning rate server_lr (Reddi et al. 2021)",
          {},
          [](const CoordinatorConfig& c, const StrategyParams&)
              -> Result<std::unique_ptr<Strategy>> {
            FedAdamParams p;
            p.lr = c.server_lr;
            return NewStrategy<FedAdam>(c.fraction, c.min_sites, p, c.aggregation_threads);
          }};
}

}  // namespace fedsmear
