#include "models/model_state.h"

#include <cmath>
#include <cstring>

namespace fedsmear {

const char* TensorKindName(TensorKind kind) {
  switch (kind) {
    case TensorKind::kFloat: return "float";
    case TensorKind::kBinary: return "binary";
    case TensorKind::kStat: return "stat";
  }
  return "unknown";
}

NamedTensor* ModelState::FindMutable(const std::string& name) {
  for (NamedTensor& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const NamedTensor* ModelState::Find(const std::string& name) const {
  for (const NamedTensor& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

int64_t ModelState::NumValues() const {
  int64_t n = 0;
  for (const NamedTensor& t : tensors) n += static_cast<int64_t>(t.values.size());
  return n;
}

int64_t ModelState::NumValues(TensorKind kind) const {
  int64_t n = 0;
  for (const NamedTensor& t : tensors) {
    if (t.kind == kind) n += static_cast<int64_t>(t.values.size());
  }
  return n;
}

int64_t NumElements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

static std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

Status CheckSameLayout(const ModelState& expected, const ModelState& actual) {
  const ModelMeta& e = expected.meta;
  const ModelMeta& a = actual.meta;
  if (e.arch != a.arch || e.classes != a.classes || e.input_size != a.input_size) {
    return InvalidArgument("model is " + a.arch + "/" + std::to_string(a.classes) + " classes/" +
                           std::to_string(a.input_size) + " px, expected " + e.arch + "/" +
                           std::to_string(e.classes) + " classes/" +
                           std::to_string(e.input_size) + " px");
  }
  if (!e.class_names.empty() && !a.class_names.empty() && e.class_names != a.class_names) {
    return InvalidArgument("class names differ from the expected model's");
  }
  if (expected.tensors.size() != actual.tensors.size()) {
    return InvalidArgument("model has " + std::to_string(actual.tensors.size()) +
                           " tensors, expected " + std::to_string(expected.tensors.size()));
  }
  for (size_t i = 0; i < expected.tensors.size(); ++i) {
    const NamedTensor& x = expected.tensors[i];
    const NamedTensor& y = actual.tensors[i];
    if (x.name != y.name || x.shape != y.shape || x.kind != y.kind) {
      return InvalidArgument("tensor " + std::to_string(i) + " is " + y.name +
                             ShapeString(y.shape) + ", expected " + x.name + ShapeString(x.shape));
    }
    if (static_cast<int64_t>(y.values.size()) != NumElements(y.shape)) {
      return Corrupt("tensor " + y.name + " holds " + std::to_string(y.values.size()) +
                     " values for shape " + ShapeString(y.shape));
    }
  }
  return Status::Ok();
}

bool AllFinite(const float* values, size_t n) {
  // IEEE 754 binary32: NaN and Inf are exactly the values whose 8 exponent bits are all set.
  constexpr uint32_t kExponent = 0x7f800000u;
  uint32_t bad = 0;
  for (size_t k = 0; k < n; ++k) {
    uint32_t bits;
    std::memcpy(&bits, values + k, sizeof bits);
    bad |= static_cast<uint32_t>((bits & kExponent) == kExponent);
  }
  return bad == 0;
}

Status CheckFinite(const ModelState& state) {
  for (const NamedTensor& t : state.tensors) {
    if (!AllFinite(t.values.data(), t.values.size())) {
      return InvalidArgument("tensor " + t.name + " holds NaN or Inf");
    }
  }
  return Status::Ok();
}

}  // namespace fedsmear
