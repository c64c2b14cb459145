#include "data/partition_manifest.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/file_util.h"

namespace fedsmear {
namespace fs = std::filesystem;
namespace {

constexpr char kHoldout[] = "holdout";

// 0 for the held-out set, k for "site-<k>", -1 for anything else.
int SiteNumber(const std::string& name) {
  if (name == kHoldout) return 0;
  if (name.rfind("site-", 0) != 0 || name.size() == 5 || name.size() > 11) return -1;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
  }
  if (name[5] == '0') return -1;
  return std::atoi(name.c_str() + 5);
}

Status AppendRows(const std::string& site, const std::vector<std::string>& classes,
                  const std::vector<Sample>& samples, std::string* text) {
  for (const Sample& s : samples) {
    if (s.label < 0 || static_cast<size_t>(s.label) >= classes.size()) {
      return InvalidArgument("sample label out of range: " + s.path);
    }
    std::error_code ec;
    fs::path path(s.path);
    if (path.is_relative()) path = fs::absolute(path, ec).lexically_normal();
    if (ec) return IoError("cannot make " + s.path + " absolute: " + ec.message());
    *text += site + "," + CsvField(path.string()) + "," + CsvField(classes[s.label]) + "," +
             CsvField(s.group) + "\n";
  }
  return Status::Ok();
}

}  // namespace

Status WritePartitionManifest(const std::string& path, const PartitionManifest& manifest) {
  std::string text = "site,path,label,group\n";
  RETURN_IF_ERROR(AppendRows(kHoldout, manifest.class_names, manifest.holdout, &text));
  for (size_t k = 0; k < manifest.sites.size(); ++k) {
    RETURN_IF_ERROR(AppendRows("site-" + std::to_string(k + 1), manifest.class_names,
                               manifest.sites[k], &text));
  }
  return WriteFileAtomic(path, text);
}

Result<PartitionManifest> ReadPartitionManifest(const std::string& path,
                                                const std::vector<std::string>& classes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("partition manifest not found: " + path);
  const fs::path base = fs::path(path).parent_path();
  struct Row {
    int site;
    std::string path, label, group;
    int line;
  };
  std::vector<Row> rows;
  std::string line;
  std::vector<std::string> f;
  bool header = false;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (!SplitCsvLine(line, &f)) return Corrupt(where + "unterminated quote");
    if (!header) {
      if (f.size() != 4 || f[0] != "site" || f[1] != "path" || f[2] != "label" ||
          f[3] != "group") {
        return Corrupt(where + "expected the header site,path,label,group");
      }
      header = true;
      continue;
    }
    if (f.size() != 4) return Corrupt(where + "expected site,path,label,group");
    const int site = SiteNumber(f[0]);
    if (site < 0) return Corrupt(where + "site '" + f[0] + "' is neither holdout nor site-<k>");
    if (f[1].empty() || f[2].empty()) return Corrupt(where + "empty path or label");
    fs::path p(f[1]);
    if (p.is_relative()) p = base / p;
    rows.push_back({site, p.lexically_normal().string(), f[2], f[3], line_no});
  }
  if (in.bad()) return IoError("cannot read " + path);

  PartitionManifest out;
  out.class_names = classes;
  if (out.class_names.empty()) {
    std::set<std::string> labels;
    for (const Row& r : rows) labels.insert(r.label);
    out.class_names.assign(labels.begin(), labels.end());
  }
  int sites = 0;
  for (const Row& r : rows) sites = std::max(sites, r.site);
  if (sites == 0) return Corrupt(path + ": no site-<k> rows");
  out.sites.resize(sites);
  std::set<std::string> seen;
  for (const Row& r : rows) {
    const std::string where = path + ":" + std::to_string(r.line) + ": ";
    int label = -1;
    for (size_t c = 0; c < out.class_names.size(); ++c) {
      if (EqualsIgnoreCase(out.class_names[c], r.label)) label = static_cast<int>(c);
    }
    if (label < 0) return Corrupt(where + "label '" + r.label + "' is not among the classes");
    if (!seen.insert(r.path).second) return Corrupt(where + r.path + " is listed twice");
    Sample s{r.path, label, r.group};
    (r.site == 0 ? out.holdout : out.sites[r.site - 1]).push_back(std::move(s));
  }
  for (int k = 0; k < sites; ++k) {
    if (out.sites[k].empty()) {
      return Corrupt(path + ": site-" + std::to_string(k + 1) + " has no image");
    }
  }
  return out;
}

}  // namespace fedsmear
