#include "train/trainer.h"

#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>

#include "data/split.h"

namespace fedsmear {
namespace {

using Clock = std::chrono::steady_clock;
namespace F = torch::nn::functional;

torch::Tensor ImagesOf(Batch& b, int size) {
  return torch::from_blob(b.images.data(), {b.n, 3, size, size}, torch::kFloat32);
}

std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(DenseNet& model, const TrainConfig& t,
                                                       double lr) {
  if (t.optimizer == Optimizer::kSgd) {
    return std::make_unique<torch::optim::SGD>(
        model->parameters(),
        torch::optim::SGDOptions(lr).momentum(t.momentum).weight_decay(t.weight_decay));
  }
  return std::make_unique<torch::optim::Adam>(
      model->parameters(), torch::optim::AdamOptions(lr).weight_decay(t.weight_decay));
}

// Global-model tensors aligned with model->parameters(), for the FedProx term.
std::vector<torch::Tensor> AnchorTensors(DenseNet& model, const ModelState& anchor) {
  std::vector<torch::Tensor> out;
  for (const auto& p : model->named_parameters()) {
    const NamedTensor* t = anchor.Find(p.key());
    if (t == nullptr) {
      out.emplace_back();
      continue;
    }
    out.push_back(torch::from_blob(const_cast<float*>(t->values.data()), t->shape).clone());
  }
  return out;
}

Result<TrainStats> TrainImpl(DenseNet& model, const Dataset& data,
                             const std::vector<size_t>& indices, const TrainOptions& o) {
  const TrainConfig& t = o.train;
  const double lr = o.learning_rate > 0 ? o.learning_rate : t.learning_rate;
  model->SetBatchNormMomentum(t.bn_momentum);
  model->train();
  auto optimizer = MakeOptimizer(model, t, lr);
  if (o.optimizer_state != nullptr) {
    RestoreOptimizerState(*o.optimizer_state, t.optimizer_state, model->named_parameters(),
                          *optimizer);
  }
  torch::Tensor class_weights;
  if (t.class_weights) {
    std::vector<double> w = InverseFrequencyWeights(CountClasses(data, &indices));
    class_weights = torch::tensor(std::vector<float>(w.begin(), w.end()));
  }
  torch::Tensor logit_offsets;  // label-skew calibration (split.h: LogitAdjustmentOffsets)
  if (t.logit_adjustment > 0) {
    std::vector<double> off = LogitAdjustmentOffsets(CountClasses(data, &indices),
                                                     t.logit_adjustment, o.class_prior);
    logit_offsets = torch::tensor(std::vector<float>(off.begin(), off.end())).unsqueeze(0);
  }
  std::vector<torch::Tensor> anchor;
  if (o.proximal_anchor != nullptr && t.fedprox_mu > 0) {
    anchor = AnchorTensors(model, *o.proximal_anchor);
  }
  auto params = model->parameters();

  LoaderOptions lo;
  lo.batch_size = t.batch_size;
  lo.input_size = o.input_size;
  lo.pre = o.preprocess;
  lo.aug = t.augment;
  lo.train = true;
  lo.seed = o.seed;
  lo.threads = o.loader_threads;
  lo.drop_last = indices.size() > static_cast<size_t>(t.batch_size);  // BN needs > 1 sample
  BatchLoader loader(data, indices, lo);

  TrainStats stats;
  auto start = Clock::now();
  const int64_t step_cap = t.local_steps > 0 ? t.local_steps : INT64_MAX;
  int64_t steps = 0;
  for (int epoch = 0; epoch < t.local_epochs && steps < step_cap; ++epoch) {
    if (o.epoch_lr) {
      for (auto& group : optimizer->param_groups()) group.options().set_lr(o.epoch_lr(epoch));
    }
    loader.StartEpoch(epoch);
    double loss_sum = 0;
    int64_t correct = 0, seen = 0, batch_index = 0;
    Batch b;
    while (steps < step_cap && loader.Next(&b)) {
      if (b.n < 2) continue;  // BatchNorm cannot train on a single image
      torch::Tensor x = ImagesOf(b, o.input_size);
      torch::Tensor y = torch::tensor(b.labels);
      optimizer->zero_grad();
      torch::Tensor logits = model->forward(x);
      torch::Tensor fit = logit_offsets.defined() ? logits + logit_offsets : logits;
      auto ce = [&](const torch::Tensor& target) {
        auto opts = F::CrossEntropyFuncOptions().reduction(torch::kNone);
        if (class_weights.defined()) opts.weight(class_weights);
        return F::cross_entropy(fit, target, opts);
      };
      torch::Tensor loss;
      if (!b.lambda.empty()) {
        torch::Tensor lam = torch::tensor(b.lambda);
        loss = (lam * ce(y) + (1 - lam) * ce(torch::tensor(b.labels_b))).mean();
      } else {
        loss = ce(y).mean();
      }
      if (!anchor.empty()) {
        torch::Tensor prox = torch::zeros({});
        for (size_t i = 0; i < params.size(); ++i) {
          if (anchor[i].defined()) prox = prox + (params[i] - anchor[i]).pow(2).sum();
        }
        loss = loss + 0.5 * t.fedprox_mu * prox;
      }
      float loss_value = loss.item<float>();
      if (!std::isfinite(loss_value)) {
        return Internal("training diverged: loss is " + std::to_string(loss_value) +
                        " (try a smaller learning rate)");
      }
      loss.backward();
      optimizer->step();
      ++steps;
      model->ClipLatentWeights();
      loss_sum += loss_value * b.n;
      correct += logits.argmax(1).eq(y).sum().item<int64_t>();
      seen += b.n;
      if (o.progress) {
        o.progress({epoch, batch_index, loader.BatchesPerEpoch(), seen, loss_sum / seen});
      }
      ++batch_index;
    }
    stats.loss = seen ? loss_sum / seen : 0;
    stats.accuracy = seen ? static_cast<double>(correct) / seen : 0;
    stats.samples = seen;
    stats.data_wait_s = loader.stats().wait_seconds;
    if (o.on_epoch) RETURN_IF_ERROR(o.on_epoch(epoch, stats));
  }
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stats.data_wait_s = loader.stats().wait_seconds;
  stats.skipped = loader.stats().skipped;
  if (stats.samples == 0) return FailedPrecondition("no trainable images (need at least 2)");
  if (o.optimizer_state != nullptr) {
    *o.optimizer_state =
        ExportOptimizerState(t.optimizer_state, model->named_parameters(), *optimizer);
  }
  return stats;
}

}  // namespace

Result<TrainStats> TrainLocal(DenseNet& model, const Dataset& data,
                              const std::vector<size_t>& indices, const TrainOptions& options) {
  try {
    return TrainImpl(model, data, indices, options);
  } catch (const c10::Error& e) {
    return Internal(std::string("LibTorch failed during training: ") +
                    e.what_without_backtrace());
  }
}

Result<EvalStats> Evaluate(DenseNet& model, const Dataset& data, const std::vector<size_t>& indices,
                           int input_size, const PreprocessConfig& preprocess,
                           int loader_threads, int batch_size, const ProgressFn& progress) {
  try {
    torch::NoGradGuard no_grad;
    model->eval();
    LoaderOptions lo;
    lo.batch_size = batch_size;
    lo.input_size = input_size;
    lo.pre = preprocess;
    lo.train = false;
    lo.threads = loader_threads;
    lo.cache = false;
    BatchLoader loader(data, indices, lo);
    loader.StartEpoch(0);
    EvalStats stats{0, ConfusionMatrix(model->classes())};
    double loss_sum = 0;
    int64_t batch_index = 0;
    Batch b;
    while (loader.Next(&b)) {
      torch::Tensor logits = model->forward(ImagesOf(b, input_size));
      torch::Tensor y = torch::tensor(b.labels);
      loss_sum += F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().reduction(torch::kSum))
                      .item<double>();
      torch::Tensor pred = logits.argmax(1);
      auto p = pred.accessor<int64_t, 1>();
      for (int i = 0; i < b.n; ++i) stats.confusion.Add(b.labels[i], p[i]);
      if (progress) {
        const int64_t seen = stats.confusion.total();
        progress({0, batch_index++, loader.BatchesPerEpoch(), seen, loss_sum / seen});
      }
    }
    int64_t n = stats.confusion.total();
    stats.loss = n ? loss_sum / n : 0;
    return stats;
  } catch (const c10::Error& e) {
    return Internal(std::string("LibTorch failed during evaluation: ") +
                    e.what_without_backtrace());
  }
}

}  // namespace fedsmear
