// What a site's optimizer knows about its gradients, kept from one round to the site's next
// (TrainConfig.optimizer_state, common/train_config.h).
//
// FedAvg as usually run builds a new optimizer every round, so with 28 local steps no Adam
// moment estimate spans more than 28 gradients and every round starts with Adam's
// high-variance first steps. OptimizerState holds the moments between rounds as plain named
// tensors (torch-free, like ModelState), keyed by parameter name:
//   keep        Adam: step, first and second moment; SGD: the momentum buffer.
//   keep_scale  Adam: step and second moment only (the per-weight gradient scale); the first
//               moment restarts at zero, so no site carries its own direction across the
//               averaging.
// Only the optimizer's own numbers stay; the weights always come from the round's model.
// A parameter whose name or size changed starts fresh. Never sent anywhere; a site keeps it on
// disk (client/optimizer_store.h) so that a restart does not lose it.
//
// Thread-safety: plain value; the functions touch only their arguments. Ownership: values.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "common/train_config.h"
#include "train/optimizer_state_value.h"

namespace fedsmear {

// Copies `state` into `optimizer` (a torch::optim::Adam or SGD over `named`'s parameters) as
// `mode` says ("keep" | "keep_scale"; "fresh" restores nothing). Returns how many parameters
// got state.
int RestoreOptimizerState(const OptimizerState& state, OptimizerStateMode mode,
                          const torch::OrderedDict<std::string, torch::Tensor>& named,
                          torch::optim::Optimizer& optimizer);

// The optimizer's state after training, as `mode` keeps it ("fresh": an empty state).
OptimizerState ExportOptimizerState(OptimizerStateMode mode,
                                    const torch::OrderedDict<std::string, torch::Tensor>& named,
                                    torch::optim::Optimizer& optimizer);

}  // namespace fedsmear
