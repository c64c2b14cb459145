// Batch-norm statistics of one model from several sites, pooled as if computed on the union of
// their images: what the coordinator's bn_recalibration stage does with the sites' answers
// (train/bn_calibrate.h computes one site's). Torch-free.
//
// Thread-safety: plain functions over values. Ownership: none kept.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "models/model_state.h"

namespace fedsmear {

// One site's statistics of the same model: its BN running means/vars (a ModelState holding only
// tensors named *.running_mean / *.running_var) and the images they come from.
struct SiteBnStatistics {
  ModelState stats;
  int64_t images = 0;
};

// The statistics of the union of the sites' images: per channel, the image-weighted mean of the
// means, and the pooled variance sum_i w_i (var_i + mean_i^2) - mean^2 (law of total variance).
// Writes them into `global`'s running_mean/running_var tensors. InvalidArgument when a site's
// tensors do not match `global`'s names and shapes or hold non-finite values (nothing written).
Status PoolBatchNormStatistics(const std::vector<SiteBnStatistics>& sites, ModelState* global);

// OK when `site` holds a finite running_mean and running_var for every BN layer of `global`, with
// its shapes; else InvalidArgument naming the first tensor that does not fit.
Status CheckBatchNormStatistics(const ModelState& site, const ModelState& global);

// The running_mean/running_var tensors of `state` (what a site returns).
ModelState BatchNormStatisticsOf(const ModelState& state);

}  // namespace fedsmear
