// bn_precision_bench: how far batch-norm recalibration (train/bn_calibrate.h) lands from exact
// arithmetic, for LibTorch's float32 forward (the sites' calibration until 2026-12-07) and for
// the 1-bit engine, on a real model and real images: the same subset and batches, with LibTorch
// in float64 as the reference. A binary layer's input is sign(BN(x)), so a normalised value
// within float rounding of zero flips, and flips compound with depth: any float32 computation
// parts from the exact statistics, and the question is only whether the engine parts further.
//
//   bn_precision_bench --model M --data pool.csv [--images 1024] [--batch-size 32]
//
// Prints, per part of the network (stem, block1, trans1, ...), the mean of |a - b| / (1 + |b|)
// over its running means and variances and how many differ by more than 1e-3, for LibTorch
// float32 vs float64, the engine vs float64 and the engine vs LibTorch float32. One thread each.
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "data/loader.h"
#include "models/bn_statistics.h"
#include "models/densenet.h"
#include "train/bn_calibrate.h"

namespace fedsmear {
namespace {

struct Gap {
  double mean = 0;
  size_t off = 0;
};

// |got - want| / (1 + |want|) over the statistics of the tensors whose name starts with prefix.
Gap GapOf(const ModelState& got, const ModelState& want, const std::string& prefix) {
  Gap g;
  size_t n = 0;
  for (const NamedTensor& w : want.tensors) {
    if (w.name.rfind(prefix, 0) != 0) continue;
    const NamedTensor* x = got.Find(w.name);
    if (x == nullptr) continue;
    for (size_t c = 0; c < w.values.size(); ++c) {
      const double r = std::fabs(x->values[c] - w.values[c]) / (1.0 + std::fabs(w.values[c]));
      g.mean += r;
      g.off += r > 1e-3;
      ++n;
    }
  }
  if (n) g.mean /= static_cast<double>(n);
  return g;
}

// LibTorch's recalibration in float64 over the batches CalibrateBatchNorm reads (its subset
// rule: a seeded shuffle, the first `images`, in folder order).
Result<ModelState> Float64Statistics(const ModelState& state, const Dataset& data,
                                     const CalibrateOptions& o) {
  std::vector<size_t> idx(data.samples.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  if (o.max_images > 0 && idx.size() > static_cast<size_t>(o.max_images)) {
    std::mt19937_64 rng(o.seed);
    std::shuffle(idx.begin(), idx.end(), rng);
    idx.resize(o.max_images);
    std::sort(idx.begin(), idx.end());
  }
  ASSIGN_OR_RETURN(DenseNet m, ModelFromState(state));
  m->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  ResetBatchNormStatistics(m);
  m->train();
  LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.input_size = o.input_size;
  lo.pre = o.preprocess;
  lo.train = false;
  lo.cache = false;
  BatchLoader loader(data, idx, lo);
  loader.StartEpoch(0);
  Batch b;
  while (loader.Next(&b)) {
    if (b.n < 2) continue;
    m->forward(torch::from_blob(b.images.data(), {b.n, 3, o.input_size, o.input_size},
                                torch::kFloat32)
                   .to(torch::kFloat64));
  }
  m->eval();
  m->to(torch::kFloat32);
  return BatchNormStatisticsOf(ExportState(m, state.meta.class_names));
}

int Run(const std::string& model_path, const std::string& data_path, int images, int batch) {
  torch::set_num_threads(1);
  Result<ModelState> state = LoadModelFile(model_path);
  if (!state.ok()) return std::fprintf(stderr, "%s\n", state.status().message().c_str()), 1;
  Result<Dataset> data = OpenDataset(data_path, state->meta.class_names);
  if (!data.ok()) return std::fprintf(stderr, "%s\n", data.status().message().c_str()), 1;
  std::vector<size_t> all(data->samples.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  CalibrateOptions o;
  o.input_size = state->meta.input_size;
  o.max_images = images;
  o.batch_size = batch;

  Result<DenseNet> model = ModelFromState(*state);
  if (!model.ok()) return std::fprintf(stderr, "%s\n", model.status().message().c_str()), 1;
  if (Result<CalibrateStats> s = CalibrateBatchNorm(*model, *data, all, o); !s.ok()) {
    return std::fprintf(stderr, "%s\n", s.status().message().c_str()), 1;
  }
  const ModelState torch32 = BatchNormStatisticsOf(ExportState(*model, state->meta.class_names));
  ModelState engine_state = *state;
  if (Result<CalibrateStats> s = CalibrateBatchNormBinary(&engine_state, *data, all, o, 1);
      !s.ok()) {
    return std::fprintf(stderr, "%s\n", s.status().message().c_str()), 1;
  }
  const ModelState engine = BatchNormStatisticsOf(engine_state);
  Result<ModelState> exact = Float64Statistics(*state, *data, o);
  if (!exact.ok()) return std::fprintf(stderr, "%s\n", exact.status().message().c_str()), 1;

  std::printf("%s, %d images of %s, batches of %d\n", model_path.c_str(), images,
              data_path.c_str(), batch);
  std::printf("%-7s | LibTorch f32 vs f64 | engine vs f64     | engine vs LibTorch f32\n", "part");
  for (const char* part : {"stem", "block1", "trans1", "block2", "trans2", "block3", "trans3",
                           "block4", "head", ""}) {
    const Gap t = GapOf(torch32, *exact, part), e = GapOf(engine, *exact, part),
              et = GapOf(engine, torch32, part);
    std::printf("%-7s | %.3g (%5zu > 1e-3) | %.3g (%5zu > 1e-3) | %.3g (%5zu > 1e-3)\n",
                *part ? part : "all", t.mean, t.off, e.mean, e.off, et.mean, et.off);
  }
  return 0;
}

}  // namespace
}  // namespace fedsmear

int main(int argc, char** argv) {
  CLI::App app{"batch-norm recalibration precision: LibTorch float32 and the 1-bit engine "
               "against LibTorch float64"};
  std::string model, data;
  int images = 1024, batch = 32;
  app.add_option("--model", model, "packed binarized model")->required();
  app.add_option("--data", data, "image folder or CSV manifest")->required();
  app.add_option("--images", images, "a seeded random subset of this many")->capture_default_str();
  app.add_option("--batch-size", batch, "calibration batch size")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return fedsmear::Run(model, data, images, batch);
}
