#include "data/materialize.h"

#include <filesystem>
#include <set>

namespace fedsmear {

namespace fs = std::filesystem;

Result<MaterializeStats> MaterializeSamples(const std::vector<Sample>& samples,
                                            const std::vector<std::string>& class_names,
                                            const std::string& out_root) {
  MaterializeStats stats;
  std::error_code ec;
  for (const std::string& name : class_names) {
    fs::create_directories(fs::path(out_root) / name, ec);
    if (ec) return IoError("cannot create " + out_root + "/" + name + ": " + ec.message());
  }
  std::set<fs::path> taken;
  for (const Sample& s : samples) {
    if (s.label < 0 || static_cast<size_t>(s.label) >= class_names.size()) {
      return InvalidArgument("label " + std::to_string(s.label) + " of " + s.path +
                             " is outside the class list");
    }
    const fs::path dir = fs::path(out_root) / class_names[static_cast<size_t>(s.label)];
    const std::string file = fs::path(s.path).filename().string();
    fs::path dest = dir / file;
    for (int n = 2; taken.count(dest) || fs::exists(dest, ec); ++n) {
      dest = dir / (std::to_string(n) + "_" + file);
    }
    taken.insert(dest);
    fs::create_hard_link(s.path, dest, ec);
    if (!ec) {
      ++stats.linked;
      continue;
    }
    ec.clear();
    fs::copy_file(s.path, dest, ec);
    if (ec) return IoError("cannot copy " + s.path + " to " + dest.string() + ": " + ec.message());
    ++stats.copied;
  }
  return stats;
}

}  // namespace fedsmear
