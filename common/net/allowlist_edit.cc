// AdmitSite, RevokeSite (common/net/allowlist_edit.h).
#include "common/net/allowlist_edit.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <vector>

#include "common/file_util.h"

namespace fedsmear {
namespace {

constexpr uint64_t kMaxAllowlistBytes = uint64_t{16} << 20;

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    const size_t end = nl == std::string::npos ? text.size() : nl;
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The site id of an allowlist line; "" for blank and comment lines.
std::string LineSiteId(const std::string& line) {
  const size_t first = line.find_first_not_of(" \t\r");
  if (first == std::string::npos || line[first] == '#') return "";
  const size_t end = line.find_first_of(" \t\r", first);
  return line.substr(first, end == std::string::npos ? std::string::npos : end - first);
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  return text;
}

// Writes `text` to `path` by rename, with the old file's owner, group and mode when it exists;
// a new file gets mode 0640 and its folder's group (root:fedsmear /etc/fedsmear/keys makes it
// readable by the service account).
Status ReplaceFile(const std::string& path, const std::string& text) {
  struct stat old {};
  const bool existed = ::stat(path.c_str(), &old) == 0;
  if (!existed) {
    struct stat dir {};
    const std::string parent = std::filesystem::path(path).parent_path().string();
    if (::stat(parent.empty() ? "." : parent.c_str(), &dir) != 0) {
      return IoError("cannot read the folder of " + path + ": " + std::strerror(errno));
    }
    old.st_uid = ::geteuid();
    old.st_gid = dir.st_gid;
  }
  const unsigned mode = existed ? (old.st_mode & 07777) : 0640;
  const std::string staged = path + ".new";
  RETURN_IF_ERROR(WriteFileAtomic(staged, text, mode));
  if (::lchown(staged.c_str(), old.st_uid, old.st_gid) != 0 || ::chmod(staged.c_str(), mode) != 0) {
    const int err = errno;
    ::unlink(staged.c_str());
    return IoError("cannot give " + staged + " the owner and mode of " + path + ": " +
                   std::strerror(err));
  }
  if (::rename(staged.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(staged.c_str());
    return IoError("cannot rename " + staged + " to " + path + ": " + std::strerror(err));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ReadLines(const std::string& path, bool missing_ok) {
  struct stat st {};
  if (missing_ok && ::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    return std::vector<std::string>();
  }
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxAllowlistBytes));
  RETURN_IF_ERROR(ParseAllowedSites(text, path).status());
  return SplitLines(text);
}

}  // namespace

std::string AllowlistLine(const AllowedSite& site) {
  std::string line = site.site_id + " " + site.public_key;
  if (!site.sign_public_key.empty()) line += " " + site.sign_public_key;
  return line;
}

Result<AllowlistChange> AdmitSite(const std::string& path, const AllowedSite& site, bool replace) {
  RETURN_IF_ERROR(ParseAllowedSites(AllowlistLine(site), "the new line").status());
  ASSIGN_OR_RETURN(std::vector<std::string> lines, ReadLines(path, /*missing_ok=*/true));
  const std::string new_line = AllowlistLine(site);
  AllowlistChange change = AllowlistChange::kAdded;
  std::vector<std::string> out;
  for (const std::string& line : lines) {
    if (LineSiteId(line) != site.site_id) {
      out.push_back(line);
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<AllowedSite> listed, ParseAllowedSites(line, path));
    if (listed.at(0).public_key == site.public_key &&
        listed.at(0).sign_public_key == site.sign_public_key) {
      return AllowlistChange::kUnchanged;
    }
    if (!replace) {
      return FailedPrecondition("site '" + site.site_id + "' is already on " + path +
                                " with other keys (replace them with --replace to rotate)");
    }
    out.push_back("# rotated " + UtcNow() + ": " + line);
    out.push_back(new_line);
    change = AllowlistChange::kReplaced;
  }
  if (change == AllowlistChange::kAdded) out.push_back(new_line);
  const std::string text = Joined(out);
  RETURN_IF_ERROR(ParseAllowedSites(text, path + " (edited)").status());
  RETURN_IF_ERROR(ReplaceFile(path, text));
  return change;
}

Result<AllowlistChange> RevokeSite(const std::string& path, const std::string& site_id) {
  ASSIGN_OR_RETURN(std::vector<std::string> lines, ReadLines(path, /*missing_ok=*/false));
  bool found = false;
  for (std::string& line : lines) {
    if (LineSiteId(line) == site_id) {
      line = "# revoked " + UtcNow() + ": " + line;
      found = true;
    }
  }
  if (!found) return NotFound("site '" + site_id + "' is not on " + path);
  RETURN_IF_ERROR(ReplaceFile(path, Joined(lines)));
  return AllowlistChange::kRemoved;
}

}  // namespace fedsmear
