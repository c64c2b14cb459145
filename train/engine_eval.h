// Evaluation of a model file with the torch-free binary engine (infer/engine.h): the same
// loader, preprocessing and metrics as Evaluate() in train/trainer.h, so that the two engines'
// figures compare directly.
//
// Thread-safety: reentrant; the engine may be shared (its Forward is const). Ownership: nothing
// is retained after the call.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "data/dataset.h"
#include "infer/engine.h"
#include "train/trainer.h"

namespace fedsmear {

// Loss (mean cross-entropy, natural log) and confusion matrix of `engine` on data[indices], in
// batches of `batch_size` images decoded by `loader_threads` threads.
Result<EvalStats> EvaluateBinary(const infer::BinaryEngine& engine, const Dataset& data,
                                 const std::vector<size_t>& indices,
                                 const PreprocessConfig& preprocess, int loader_threads = 1,
                                 int batch_size = 64);

// Whether `engine` scores a model of architecture `arch` with the 1-bit engine (true) or
// LibTorch (false). InvalidArgument for EvalEngine::kBinary with a float architecture.
Result<bool> UsesBinaryEngine(EvalEngine engine, const std::string& arch);

// Softmax of `n` logits (max-shifted, in double).
std::vector<double> Softmax(const float* logits, int n);

}  // namespace fedsmear
