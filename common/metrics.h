// Classification metrics from a confusion matrix: accuracy, macro-F1, per-class precision,
// recall, F1 and support. Torch-free; shared by sites, the coordinator and `fedsmear evaluate`.
// Plain values; not synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fedsmear {

struct ClassMetrics {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;  // true samples of this class
};

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int classes = 0);
  void Add(int64_t truth, int64_t predicted, int64_t count = 1);
  void Merge(const ConfusionMatrix& other);

  int classes() const { return classes_; }
  int64_t at(int truth, int predicted) const { return cells_[truth * classes_ + predicted]; }
  int64_t total() const;
  double Accuracy() const;
  // Mean F1 over classes with support > 0 or predictions > 0 (classes absent from both are
  // not counted, as scikit-learn does with zero_division handling of empty labels).
  double MacroF1() const;
  std::vector<ClassMetrics> PerClass() const;
  // {"accuracy", "macro_f1", "per_class": [{name, precision, recall, f1, support}], "confusion"}
  nlohmann::ordered_json ToJson(const std::vector<std::string>& class_names) const;

 private:
  int classes_;
  std::vector<int64_t> cells_;  // row = truth, column = prediction
};

}  // namespace fedsmear
