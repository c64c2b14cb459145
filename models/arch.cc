#include "models/arch.h"

#include <cmath>

namespace fedsmear {
namespace {

std::vector<ArchSpec> Table() {
  std::vector<ArchSpec> t;
  auto add = [&t](std::string name, std::vector<int> layers, std::vector<double> reductions,
                  int growth, int initial) {
    t.push_back({"bdn" + name, true, layers, reductions, growth, initial});
    t.push_back({"densenet" + name, false, layers, reductions, growth, initial});
  };
  add("28", {6, 6, 6, 5}, {2.7, 2.7, 2.2}, 64, 64);
  add("37", {6, 8, 12, 6}, {3.3, 3.3, 4.0}, 64, 64);
  add("45", {6, 12, 14, 8}, {2.7, 3.3, 4.0}, 64, 64);
  // A few-layer variant for fast tests and demos: same building blocks, narrower.
  add("-tiny", {2, 2, 2}, {2.0, 2.0}, 32, 32);
  return t;
}

}  // namespace

Result<ArchSpec> FindArch(const std::string& name) {
  for (const ArchSpec& a : Table()) {
    if (a.name == name) return a;
  }
  std::string names;
  for (const auto& n : ArchNames()) names += (names.empty() ? "" : ", ") + n;
  return InvalidArgument("unknown architecture '" + name + "' (known: " + names + ")");
}

std::vector<std::string> ArchNames() {
  std::vector<std::string> names;
  for (const ArchSpec& a : Table()) names.push_back(a.name);
  return names;
}

int TransitionChannels(int in_channels, double reduction) {
  double reduced = std::floor(in_channels / reduction);
  return static_cast<int>(std::nearbyint(reduced / 32.0)) * 32;  // FE_TONEAREST: half to even
}

}  // namespace fedsmear
