// Architecture table of the BinaryDenseNet family (larq-zoo topology) and its float twins.
//
// Torch-free: names, block sizes, reductions and the channel arithmetic, so that tools and the
// coordinator can reason about a network without building it. Plain values; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace fedsmear {

struct ArchSpec {
  std::string name;                // e.g. "bdn28"
  bool binary = true;              // false: float twin (ReLU before each dense conv, no sign)
  std::vector<int> layers;         // dense layers per block
  std::vector<double> reductions;  // channel reduction of each transition (blocks - 1)
  int growth = 64;                 // filters of each dense 3x3 conv
  int initial_filters = 64;        // stem filters
};

// bdn28, bdn37, bdn45, densenet28, densenet37, densenet45, bdn-tiny, densenet-tiny.
Result<ArchSpec> FindArch(const std::string& name);
std::vector<std::string> ArchNames();

// Output channels of a transition: round(floor(C / reduction) / 32) * 32 with round-half-even,
// as larq-zoo computes it in Python.
int TransitionChannels(int in_channels, double reduction);

// True when the stem is the small-input variant (3x3/1 conv, no BN, no pool): input < 50 px.
inline bool SmallInputStem(int input_size) { return input_size < 50; }

}  // namespace fedsmear
