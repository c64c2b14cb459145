// Batch-norm statistics of one model from several sites, pooled as the sites' training
// normalised: the mean of the union of their images and the sites' average variance, since every
// training batch comes from one site. What the coordinator's bn_recalibration stage does with the
// sites' answers (train/bn_calibrate.h computes one site's). Torch-free.
//
// One rule for both kinds of round: a site contributes its moments relative to the model every
// site received (BnMomentsOf), weighted by w_i / W; the pooled statistics are ApplyBnMoments of
// the weighted sum. Plain rounds (PoolBatchNormStatistics) sum the moments at the coordinator;
// SecAgg+ rounds sum the sites' quantized, scaled moments under masks (secagg/site_secagg.h
// QuantizeBnMoments), so the coordinator sees only the sum.
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

// A site recalibrates over batches of all the images asked for, up to this many: one batch gives
// the statistics a model in eval mode needs. Batches of the training size give train-mode ones,
// whose every layer saw inputs normalised by the batch's own statistics (docs/accuracy-notes.md).
inline constexpr int kMaxBnCalibrationBatch = 1024;

// The pooled statistics: per channel, the image-weighted mean of the sites' means (the mean of the
// union of their images) and the image-weighted mean of their variances, the within-site
// variance. Not the union's variance, which adds the spread of the sites' means: a site's
// training batches never mix sites, so what BN normalised by during training was a site's own
// spread, and the union's larger variance shifts every binary layer's threshold (sign(BN(x))).
// Writes them into `global`'s running_mean/running_var tensors. InvalidArgument when a site's
// tensors do not match `global`'s names and shapes or hold non-finite values (nothing written).
Status PoolBatchNormStatistics(const std::vector<SiteBnStatistics>& sites, ModelState* global);

// OK when `site` holds a finite running_mean and running_var for every BN layer of `global`, with
// its shapes; else InvalidArgument naming the first tensor that does not fit.
Status CheckBatchNormStatistics(const ModelState& site, const ModelState& global);

// The running_mean/running_var tensors of `state` (what a site returns).
ModelState BatchNormStatisticsOf(const ModelState& state);

// The moments of `site`'s statistics relative to `reference` (the model the sites received, public
// to all of them): for every BN layer of `reference` in model order, first d_c = (mean_c - r_c) /
// s_c for each channel c, then e_c = var_c / s_c^2, where r is reference's
// running_mean and s_c^2 = reference's running_var (at least 0) + kBnMomentEpsilon. Normalised this way the
// values are of order 1 whatever the layer's scale, so one clip (kBnMomentClip) bounds them in a
// secure sum. InvalidArgument as CheckBatchNormStatistics.
inline constexpr double kBnMomentEpsilon = 1e-3;
inline constexpr float kBnMomentClip = 1024.f;
Result<std::vector<double>> BnMomentsOf(const ModelState& site, const ModelState& reference);
// The number of values BnMomentsOf returns for `reference` (2 per BN channel).
size_t BnMomentCount(const ModelState& reference);
// Writes the statistics whose moments are `pooled` (sum_i w_i/W * BnMomentsOf(site_i), sum w_i/W
// = 1) into `reference`: mean = r + s*D, var = s^2 * max(0, E), as PoolBatchNormStatistics.
// InvalidArgument (nothing written) when `pooled` has the wrong length or a non-finite value.
Status ApplyBnMoments(const std::vector<double>& pooled, ModelState* reference);

}  // namespace fedsmear
