// Synthetic blood-smear cell images for tests, demos and quick experiments without patient data.
//
// Task "rbc" (8 classes, the red-cell morphologies of Tyas et al. without "pencil"): normal (disc
// with central pallor), elliptocyte (oval), spherocyte (small dense disc, no pallor), target
// (pallor ring with a central dot), stomatocyte (slit-shaped pallor), acanthocyte (irregular
// spikes), teardrop (disc with a tail), hypochromic (wide pale centre).
// Task "wbc" (4 classes, as in the Kaggle BCCD set): neutrophil (3-5 linked nucleus lobes),
// lymphocyte (large round nucleus, thin cytoplasm), monocyte (large cell, kidney nucleus),
// eosinophil (bilobed nucleus, orange granules), among a few background red cells.
// Every image varies cell size, position, rotation, colours, background tint, blur and noise, so
// classes are learnable but not trivially separable by one pixel. Rendering is deterministic per
// (seed, class, index) and drawn directly at the output size (thousands of 64 px images/s).
//
// Thread-safety: pure functions. Ownership: returned images by value.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/status.h"

namespace fedsmear {

// Class names of a task ("rbc" or "wbc"), in label order; empty for an unknown task.
std::vector<std::string> SynthClassNames(const std::string& task);

// One CV_8UC3 RGB image of side `size` (>= 16) showing class `class_id` of `task`.
Result<cv::Mat> RenderSynthCell(const std::string& task, int class_id, int size, std::mt19937& rng);

struct SynthOptions {
  std::string task = "rbc";
  int per_class = 100;
  int size = 64;
  uint64_t seed = 1;
};

// Writes out_root/<class>/<n>.png for n = 0..per_class-1 (creating folders; existing files of
// the same names are overwritten). Errors: kInvalidArgument (task, counts, size), kIoError.
Status WriteSynthDataset(const SynthOptions& opts, const std::string& out_root);

}  // namespace fedsmear
