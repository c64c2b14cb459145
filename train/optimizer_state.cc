#include "train/optimizer_state.h"

#include <c10/util/string_utils.h>

#include <algorithm>
#include <memory>

#include "models/densenet.h"

namespace fedsmear {
namespace {

// The key torch::optim uses for a parameter's state (optimizer.h, serialize.h).
std::string KeyOf(const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

// A saved tensor shaped like `p`, or an undefined tensor when there is none of its size.
torch::Tensor Saved(const ModelState& s, const std::string& name, const torch::Tensor& p) {
  const NamedTensor* t = s.Find(name);
  if (t == nullptr || static_cast<int64_t>(t->values.size()) != p.numel()) return {};
  return torch::from_blob(const_cast<float*>(t->values.data()), p.sizes(), torch::kFloat32)
      .clone();
}

}  // namespace

int RestoreOptimizerState(const OptimizerState& state, OptimizerStateMode mode,
                          const torch::OrderedDict<std::string, torch::Tensor>& named,
                          torch::optim::Optimizer& optimizer) {
  if (mode == OptimizerStateMode::kFresh || state.empty()) return 0;
  const bool keep_first = mode == OptimizerStateMode::kKeep;
  int restored = 0;
  auto* adam = dynamic_cast<torch::optim::Adam*>(&optimizer);
  auto* sgd = dynamic_cast<torch::optim::SGD*>(&optimizer);
  for (const auto& item : named) {
    const torch::Tensor& p = item.value();
    if (adam != nullptr) {
      torch::Tensor second = Saved(state.second, item.key(), p);
      if (!second.defined() || state.step <= 0) continue;
      torch::Tensor first = keep_first ? Saved(state.first, item.key(), p) : torch::Tensor();
      auto s = std::make_unique<torch::optim::AdamParamState>();
      s->step(state.step);
      s->exp_avg(first.defined() ? first : torch::zeros_like(p));
      s->exp_avg_sq(second);
      adam->state()[KeyOf(p)] = std::move(s);
      ++restored;
    } else if (sgd != nullptr && keep_first) {
      torch::Tensor buffer = Saved(state.first, item.key(), p);
      if (!buffer.defined()) continue;
      auto s = std::make_unique<torch::optim::SGDParamState>();
      s->momentum_buffer(buffer);
      sgd->state()[KeyOf(p)] = std::move(s);
      ++restored;
    }
  }
  return restored;
}

OptimizerState ExportOptimizerState(OptimizerStateMode mode,
                                    const torch::OrderedDict<std::string, torch::Tensor>& named,
                                    torch::optim::Optimizer& optimizer) {
  OptimizerState out;
  if (mode == OptimizerStateMode::kFresh) return out;
  const bool keep_first = mode == OptimizerStateMode::kKeep;
  auto& states = optimizer.state();
  for (const auto& item : named) {
    auto it = states.find(KeyOf(item.value()));
    if (it == states.end()) continue;
    if (auto* a = dynamic_cast<torch::optim::AdamParamState*>(it->second.get())) {
      out.step = std::max(out.step, a->step());
      if (keep_first) out.first.tensors.push_back(ToNamed(item.key(), a->exp_avg()));
      out.second.tensors.push_back(ToNamed(item.key(), a->exp_avg_sq()));
    } else if (auto* m = dynamic_cast<torch::optim::SGDParamState*>(it->second.get())) {
      if (keep_first && m->momentum_buffer().defined()) {
        out.first.tensors.push_back(ToNamed(item.key(), m->momentum_buffer()));
      }
    }
  }
  return out;
}

}  // namespace fedsmear
