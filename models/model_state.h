// ModelState: a network's tensors as plain float arrays, torch-free.
//
// The common currency between the model (models/densenet.h converts to and from torch), the
// packed transfer format (models/packed_model.h), aggregation and the wire. Each tensor carries
// its role: latent weights of binary convolutions travel as signs, BN running statistics are
// averaged but not trained. Plain value type: copy or move freely, no synchronisation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace fedsmear {

enum class TensorKind : uint8_t {
  kFloat = 0,   // trainable full-precision parameter (stem, transitions, BN affine, head)
  kBinary = 1,  // latent weights of a binary convolution; only the sign reaches inference
  kStat = 2,    // BN running mean/variance (not trained, averaged by FedAvg)
};
const char* TensorKindName(TensorKind kind);

struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  TensorKind kind = TensorKind::kFloat;
  std::vector<float> values;  // row-major, size == product of shape
};

struct ModelMeta {
  std::string arch;
  int classes = 0;
  int input_size = 0;
  std::vector<std::string> class_names;
};

struct ModelState {
  ModelMeta meta;
  std::vector<NamedTensor> tensors;

  const NamedTensor* Find(const std::string& name) const;
  NamedTensor* FindMutable(const std::string& name);
  int64_t NumValues() const;
  int64_t NumValues(TensorKind kind) const;
};

int64_t NumElements(const std::vector<int64_t>& shape);

// OK when both states have the same tensors (names, shapes, kinds, order) and metadata.
Status CheckSameLayout(const ModelState& expected, const ModelState& actual);

// True when none of the n values is NaN or Inf. Branch-free over the exponent bits, so the
// compiler vectorizes it: a finiteness check costs one streaming read of the values.
bool AllFinite(const float* values, size_t n);

// OK when every value is finite (no NaN/Inf), else names the first offending tensor.
Status CheckFinite(const ModelState& state);

}  // namespace fedsmear
