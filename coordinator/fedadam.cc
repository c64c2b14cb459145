// FedAdam: server-side Adam on the averaged delta; its moments survive restarts.
#include <cstring>

#include "coordinator/strategies.h"
#include "coordinator/strategy_registry.h"

namespace fedsmear {
namespace {

// Little-endian whatever the host (the state is stored in checkpoints, which move between
// machines).
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}
void PutF32s(std::string& out, const std::vector<float>& values) {
  for (float f : values) {
    uint32_t bits = 0;
    std::memcpy(&bits, &f, 4);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
}
void GetF32s(const char* p, std::vector<float>* values) {
  for (float& f : *values) {
    uint32_t bits = 0;
    for (int i = 0; i < 4; ++i) bits |= uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
    std::memcpy(&f, &bits, 4);
    p += 4;
  }
}

}  // namespace

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
  PutU64(out, state_.m.size());
  for (size_t i = 0; i < state_.m.size(); ++i) {
    PutU64(out, state_.m[i].size());
    PutF32s(out, state_.m[i]);
    PutF32s(out, state_.v[i]);
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
    *v = GetU64(bytes.data() + pos);
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
    GetF32s(bytes.data() + pos, &s.m[i]);
    GetF32s(bytes.data() + pos + n * 4, &s.v[i]);
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
