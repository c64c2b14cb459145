#include "common/settings/setting.h"

#include <cmath>

namespace fedsmear::settings {

std::string Spec::RangeError(double v) const {
  if (std::isnan(v)) return "must be a number";
  if (positive_ && !(v > 0)) return "must be > 0";
  if (!(v >= lo_ && v <= hi_)) {
    if (hi_ == kNoLimit) return "must be >= " + std::to_string(lo_);
    if (positive_) return "must be in (0, " + std::to_string(hi_) + "]";
    return "must be in [" + std::to_string(lo_) + ", " + std::to_string(hi_) + "]";
  }
  return "";
}

}  // namespace fedsmear::settings
