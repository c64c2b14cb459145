#include "common/metrics.h"

namespace fedsmear {

ConfusionMatrix::ConfusionMatrix(int classes)
    : classes_(classes), cells_(static_cast<size_t>(classes) * classes, 0) {}

void ConfusionMatrix::Add(int64_t truth, int64_t predicted, int64_t count) {
  if (truth < 0 || truth >= classes_ || predicted < 0 || predicted >= classes_) return;
  cells_[truth * classes_ + predicted] += count;
}

void ConfusionMatrix::Merge(const ConfusionMatrix& other) {
  if (other.classes_ != classes_) return;
  for (size_t i = 0; i < cells_.size(); ++i) cells_[i] += other.cells_[i];
}

int64_t ConfusionMatrix::total() const {
  int64_t n = 0;
  for (int64_t c : cells_) n += c;
  return n;
}

double ConfusionMatrix::Accuracy() const {
  int64_t n = total();
  if (n == 0) return 0;
  int64_t correct = 0;
  for (int k = 0; k < classes_; ++k) correct += at(k, k);
  return static_cast<double>(correct) / static_cast<double>(n);
}

std::vector<ClassMetrics> ConfusionMatrix::PerClass() const {
  std::vector<ClassMetrics> out(classes_);
  for (int k = 0; k < classes_; ++k) {
    int64_t tp = at(k, k), predicted = 0, actual = 0;
    for (int j = 0; j < classes_; ++j) {
      predicted += at(j, k);
      actual += at(k, j);
    }
    ClassMetrics& m = out[k];
    m.support = actual;
    m.precision = predicted ? static_cast<double>(tp) / predicted : 0;
    m.recall = actual ? static_cast<double>(tp) / actual : 0;
    m.f1 = (m.precision + m.recall) > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
  }
  return out;
}

double ConfusionMatrix::MacroF1() const {
  std::vector<ClassMetrics> per = PerClass();
  double sum = 0;
  int counted = 0;
  for (int k = 0; k < classes_; ++k) {
    int64_t predicted = 0;
    for (int j = 0; j < classes_; ++j) predicted += at(j, k);
    if (per[k].support == 0 && predicted == 0) continue;
    sum += per[k].f1;
    ++counted;
  }
  return counted ? sum / counted : 0;
}

nlohmann::ordered_json ConfusionMatrix::ToJson(const std::vector<std::string>& names) const {
  nlohmann::ordered_json j;
  j["accuracy"] = Accuracy();
  j["macro_f1"] = MacroF1();
  j["samples"] = total();
  auto per = PerClass();
  j["per_class"] = nlohmann::ordered_json::array();
  for (int k = 0; k < classes_; ++k) {
    j["per_class"].push_back({{"class", k < static_cast<int>(names.size()) ? names[k] : std::to_string(k)},
                              {"precision", per[k].precision},
                              {"recall", per[k].recall},
                              {"f1", per[k].f1},
                              {"support", per[k].support}});
  }
  j["confusion"] = nlohmann::ordered_json::array();
  for (int t = 0; t < classes_; ++t) {
    std::vector<int64_t> row(cells_.begin() + t * classes_, cells_.begin() + (t + 1) * classes_);
    j["confusion"].push_back(row);
  }
  return j;
}

}  // namespace fedsmear
