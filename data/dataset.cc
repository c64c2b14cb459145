#include "data/dataset.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <system_error>

#include "common/file_util.h"
#include "data/image_header.h"

namespace fedsmear {
namespace fs = std::filesystem;
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                    [](unsigned char c) { return std::isdigit(c) != 0; });
}

// Maps names found in the data to label ids of `class_names`, case-insensitively.
class ClassMapper {
 public:
  explicit ClassMapper(const std::vector<std::string>& class_names) {
    for (size_t i = 0; i < class_names.size(); ++i) {
      ids_.emplace(Lower(class_names[i]), static_cast<int>(i));
    }
  }
  int Find(const std::string& name) const {
    auto it = ids_.find(Lower(name));
    return it == ids_.end() ? -1 : it->second;
  }

 private:
  std::map<std::string, int> ids_;
};

// Distinct names, first spelling wins, compared case-insensitively; sorted by lower-case name.
std::vector<std::string> DistinctSorted(const std::vector<std::string>& names) {
  std::map<std::string, std::string> by_lower;
  for (const auto& n : names) by_lower.emplace(Lower(n), n);
  std::vector<std::string> out;
  for (auto& [lower, n] : by_lower) out.push_back(n);
  return out;
}

void NoteUnknown(Dataset* ds, const std::string& name, size_t files, const std::string& where) {
  for (const auto& u : ds->unknown_classes) {
    if (EqualsIgnoreCase(u, name)) return;
  }
  ds->unknown_classes.push_back(name);
  spdlog::warn("{}: class '{}' ({} files) is not one of the model's classes; its files are ignored",
               where, name, files);
}

// Probes a file and either appends the sample or records why it was skipped.
void AddFile(const std::string& path, int label, std::string group, const ScanOptions& opts,
             Dataset* ds) {
  if (opts.check_headers) {
    Result<ImageHeader> h = ProbeImageFile(path, opts.max_image_side);
    if (!h.ok()) {
      std::string reason = h.status().message();
      if (h.status().code() == StatusCode::kNotFound) reason = "file not found";
      ds->skipped.push_back({path, reason});
      return;
    }
  }
  ds->samples.push_back({path, label, std::move(group)});
}

}  // namespace

std::vector<int64_t> Dataset::ClassCounts() const {
  std::vector<int64_t> counts(class_names.size(), 0);
  for (const auto& s : samples) {
    if (s.label >= 0 && static_cast<size_t>(s.label) < counts.size()) ++counts[s.label];
  }
  return counts;
}

bool EqualsIgnoreCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && Lower(a) == Lower(b);
}

std::string GroupKeyFromName(const std::string& filename) {
  const std::string stem = fs::path(filename).stem().string();
  // "_<k>_<n>": augmented copies of original cell k.
  if (stem.size() >= 4 && stem[0] == '_') {
    size_t second = stem.find('_', 1);
    if (second != std::string::npos && second > 1 && AllDigits(stem.substr(1, second - 1)) &&
        AllDigits(stem.substr(second + 1))) {
      return stem.substr(0, second);
    }
  }
  // "<smear> objek#<n>": cells cut from one smear image.
  size_t objek = stem.find(" objek");
  if (objek != std::string::npos && objek > 0) return stem.substr(0, objek);
  return stem;
}

std::string DefaultGroupKey(const std::string& class_name, const std::string& filename) {
  std::string key = GroupKeyFromName(filename);
  if (key.size() >= 2 && key[0] == '_' && AllDigits(key.substr(1))) {
    return Lower(class_name) + "/" + key;
  }
  return key;
}

Result<Dataset> ScanImageFolder(const std::string& root,
                                const std::vector<std::string>& model_classes,
                                const ScanOptions& opts) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return NotFound("dataset folder not found: " + root);
  std::vector<std::string> folders;
  std::vector<std::string> loose_files;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec)) {
      if (!name.empty() && name[0] != '.') folders.push_back(name);
    } else {
      loose_files.push_back(name);
    }
  }
  if (ec) return IoError("cannot list " + root + ": " + ec.message());
  if (folders.empty()) return NotFound("no class folders under " + root);
  std::sort(folders.begin(), folders.end());
  std::sort(loose_files.begin(), loose_files.end());

  Dataset ds;
  ds.class_names = model_classes.empty() ? DistinctSorted(folders) : model_classes;
  ClassMapper mapper(ds.class_names);
  for (const auto& f : loose_files) {
    ds.skipped.push_back({(fs::path(root) / f).string(), "not inside a class folder"});
  }
  for (const auto& folder : folders) {
    const fs::path dir = fs::path(root) / folder;
    std::vector<std::string> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->is_directory(ec)) {
        ds.skipped.push_back({it->path().string(), "sub-folder (only one level is scanned)"});
      } else {
        files.push_back(name);
      }
    }
    if (ec) return IoError("cannot list " + dir.string() + ": " + ec.message());
    const int label = mapper.Find(folder);
    if (label < 0) {
      NoteUnknown(&ds, folder, files.size(), root);
      continue;
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      AddFile((dir / f).string(), label, DefaultGroupKey(folder, f), opts, &ds);
    }
  }
  // Folders that differ only in case land in one class; keep file order deterministic.
  std::stable_sort(ds.samples.begin(), ds.samples.end(),
                   [](const Sample& a, const Sample& b) { return a.label < b.label; });
  return ds;
}

bool SplitCsvLine(const std::string& line, std::vector<std::string>* fields) {
  fields->clear();
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (quoted) return false;
  fields->push_back(std::move(cur));
  return true;
}

Result<Dataset> LoadManifest(const std::string& csv_path,
                             const std::vector<std::string>& model_classes,
                             const ScanOptions& opts) {
  std::ifstream in(csv_path, std::ios::binary);
  if (!in) return NotFound("manifest not found: " + csv_path);
  const fs::path base = fs::path(csv_path).parent_path();
  struct Row {
    std::string path, label, group;
  };
  std::vector<Row> rows;
  std::string line;
  std::vector<std::string> f;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1 && line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) {
      line.erase(0, 3);  // UTF-8 byte-order mark
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (!SplitCsvLine(line, &f)) {
      return Corrupt(csv_path + ":" + std::to_string(line_no) + ": unterminated quote");
    }
    if (f.size() < 2 || f.size() > 3) {
      return Corrupt(csv_path + ":" + std::to_string(line_no) + ": expected path,label[,group]");
    }
    if (rows.empty() && EqualsIgnoreCase(f[0], "path") && EqualsIgnoreCase(f[1], "label")) {
      continue;  // header
    }
    if (f[0].empty() || f[1].empty()) {
      return Corrupt(csv_path + ":" + std::to_string(line_no) + ": empty path or label");
    }
    rows.push_back({f[0], f[1], f.size() == 3 ? f[2] : ""});
  }
  if (in.bad()) return IoError("cannot read " + csv_path);

  Dataset ds;
  if (model_classes.empty()) {
    std::vector<std::string> labels;
    for (const auto& r : rows) labels.push_back(r.label);
    ds.class_names = DistinctSorted(labels);
  } else {
    ds.class_names = model_classes;
  }
  ClassMapper mapper(ds.class_names);
  std::map<std::string, size_t> unknown_counts;
  std::vector<std::pair<const Row*, int>> kept;
  for (const auto& r : rows) {
    int label = mapper.Find(r.label);
    if (label < 0 && AllDigits(r.label) && r.label.size() < 6 &&
        std::stoi(r.label) < static_cast<int>(ds.class_names.size())) {
      label = std::stoi(r.label);
    }
    if (label < 0) {
      ++unknown_counts[r.label];
      continue;
    }
    kept.emplace_back(&r, label);
  }
  for (const auto& [name, n] : unknown_counts) NoteUnknown(&ds, name, n, csv_path);
  for (const auto& [r, label] : kept) {
    fs::path p(r->path);
    if (p.is_relative()) p = base / p;
    const std::string filename = p.filename().string();
    std::string group = r->group.empty() ? DefaultGroupKey(ds.class_names[label], filename)
                                         : r->group;
    AddFile(p.lexically_normal().string(), label, std::move(group), opts, &ds);
  }
  return ds;
}

Result<Dataset> OpenDataset(const std::string& path, const std::vector<std::string>& model_classes,
                            const ScanOptions& opts) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return ScanImageFolder(path, model_classes, opts);
  if (fs::is_regular_file(path, ec)) return LoadManifest(path, model_classes, opts);
  return NotFound("no such dataset folder or manifest: " + path);
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Status WriteManifest(const std::string& csv_path, const std::vector<std::string>& class_names,
                     const std::vector<Sample>& samples) {
  std::string text = "path,label,group\n";
  for (const auto& s : samples) {
    if (s.label < 0 || static_cast<size_t>(s.label) >= class_names.size()) {
      return InvalidArgument("sample label out of range: " + s.path);
    }
    // A manifest's relative paths are read relative to its own folder, so a path relative to
    // this process's working directory is written absolute.
    std::error_code ec;
    fs::path path(s.path);
    if (path.is_relative()) path = fs::absolute(path, ec).lexically_normal();
    if (ec) return IoError("cannot make " + s.path + " absolute: " + ec.message());
    text += CsvField(path.string()) + "," + CsvField(class_names[s.label]) + "," +
            CsvField(s.group) + "\n";
  }
  return WriteFileAtomic(csv_path, text);
}

}  // namespace fedsmear
