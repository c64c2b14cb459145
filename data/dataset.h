// Site datasets: which image files exist, with which label and group, and what was skipped.
//
// Two sources: an image folder root/<class>/<file> (one level of class folders, files directly
// inside them) and a CSV manifest `path,label[,group]`. Class names are matched to the model's
// classes case-insensitively; folders or labels that are not model classes are listed in
// `unknown_classes` and logged with spdlog::warn, never dropped silently. Every file is checked by
// content (magic bytes and declared size), not by extension: empty, non-image and absurdly large
// files are listed in `skipped` with a reason. Truncated files are only found when decoding (see
// loader.h). Results are deterministic: classes and files are sorted by name.
//
// Thread-safety: functions are reentrant; a Dataset is a plain value. Ownership: by value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace fedsmear {

struct Sample {
  std::string path;   // as opened: root-joined (folder) or resolved against the CSV's folder
  int label = 0;      // index into Dataset::class_names
  std::string group;  // source unit (smear, original cell); splits keep groups together
};

struct SkippedFile {
  std::string path;
  std::string reason;
};

struct Dataset {
  std::vector<std::string> class_names;      // label ids index this
  std::vector<Sample> samples;
  std::vector<SkippedFile> skipped;          // found but unusable, with the reason
  std::vector<std::string> unknown_classes;  // folders/labels that are not model classes

  // Samples per class, size class_names.size().
  std::vector<int64_t> ClassCounts() const;
};

struct ScanOptions {
  int max_image_side = DataConfig{}.max_image_side;  // declared larger sides are skipped
  bool check_headers = true;  // false: skip the per-file header probe (faster, less safe)
};

// Group key from a file name (no directory):
//   "_<k>_<n>.<ext>" (Kaggle BCCD augmentations)  -> "_<k>"  (k = the original cell)
//   "<smear> objek#<n>.<ext>" (Tyas et al.)        -> "<smear>"
//   anything else                                  -> the stem (each file its own group)
std::string GroupKeyFromName(const std::string& filename);

// The group a scanner assigns: GroupKeyFromName, qualified by the class name ("<class>/_<k>")
// for the BCCD pattern, whose cell numbers restart in every class folder.
std::string DefaultGroupKey(const std::string& class_name, const std::string& filename);

// Scans root/<class>/<files>. `model_classes` empty: the class folders, sorted, become the
// classes. Errors: kNotFound when root is missing or has no class folders.
Result<Dataset> ScanImageFolder(const std::string& root,
                                const std::vector<std::string>& model_classes,
                                const ScanOptions& opts = {});

// Reads a CSV manifest `path,label[,group]` (header row optional; RFC 4180 quoting; relative
// paths are relative to the CSV's folder). A label is a class name; a label of digits that names
// no class is taken as a class index. `model_classes` empty: distinct labels, sorted. Missing
// files are skipped with reason "file not found". Errors: kNotFound (no CSV), kCorrupt (a
// malformed row, with its line number).
Result<Dataset> LoadManifest(const std::string& csv_path,
                             const std::vector<std::string>& model_classes,
                             const ScanOptions& opts = {});

// A folder is scanned, a file is read as a manifest.
Result<Dataset> OpenDataset(const std::string& path, const std::vector<std::string>& model_classes,
                            const ScanOptions& opts = {});

// Writes `path,label,group` rows (label = class name, header included), atomically. Relative
// sample paths (relative to the working directory) are written absolute, because LoadManifest
// reads relative paths relative to the manifest's folder.
Status WriteManifest(const std::string& csv_path, const std::vector<std::string>& class_names,
                     const std::vector<Sample>& samples);

// Splits one CSV line into fields (RFC 4180 quotes; "" inside quotes is a quote).
// Returns false on an unterminated quote.
bool SplitCsvLine(const std::string& line, std::vector<std::string>* fields);

// One CSV field: as is, or quoted (RFC 4180) when it holds a comma, quote or line break.
std::string CsvField(const std::string& s);

// Case-insensitive (ASCII) comparison used for class names.
bool EqualsIgnoreCase(const std::string& a, const std::string& b);

}  // namespace fedsmear
