// The append-only, hash-chained audit log a site (and the coordinator) keeps of what it received,
// decided and sent (docs/deploy.md, "Audit log").
//
// One JSON object per line, canonical (sorted keys, no whitespace):
//   {"fields":{...},"kind":"sent","prev":"<64 hex>","seq":17,"time":"2026-11-28T17:02:11.123Z"}
// `prev` is the SHA-256 of the previous line's bytes (without its newline); the first entry of a
// chain has 64 zeros. When the active file reaches max_file_bytes it is renamed PATH.N (N = 1, 2,
// ...) and PATH starts afresh; its first entry points at the last line of PATH.N, so the chain
// runs across files. An edited, removed, inserted or reordered line breaks the chain.
//
// Append() takes an exclusive flock on DIR/.NAME.lock and reads the chain's tail from disk each
// time, so the daemon and `fedsmear-client plan approve` can append to the same log. Each line is
// written with one write() and fdatasync'ed.
//
// Thread-safety: Append() may be called from any thread (the lock serialises writers, in and
// across processes). Ownership: holds only the path.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace fedsmear {

inline constexpr uint64_t kDefaultAuditFileBytes = uint64_t{16} << 20;

class AuditLog {
 public:
  // Creates the folder if needed and checks that the chain's tail is readable (a torn or
  // foreign last line is an error: move the file aside, it is evidence, and restart).
  // `sync`: every entry reaches the disk (fdatasync) before Append returns; false only for
  // simulations, where a power cut may lose the last entries.
  static Result<AuditLog> Open(const std::string& path,
                               uint64_t max_file_bytes = kDefaultAuditFileBytes, bool sync = true);

  // Appends one entry of `kind` with `fields` (a JSON object).
  Status Append(const std::string& kind, nlohmann::json fields);

  const std::string& path() const { return path_; }

 private:
  AuditLog(std::string path, uint64_t max_file_bytes, bool sync)
      : path_(std::move(path)), max_file_bytes_(max_file_bytes), sync_(sync) {}
  std::string path_;
  uint64_t max_file_bytes_;
  bool sync_;
};

// The rotated files of the log at `path` followed by `path` itself, oldest first.
std::vector<std::string> AuditFiles(const std::string& path);

struct AuditSummary {
  bool chain_ok = true;
  std::vector<std::string> problems;  // each names the file and line
  std::vector<std::string> notes;     // e.g. the chain starts after seq 1 (older files missing)
  uint64_t entries = 0;
  uint64_t first_seq = 0, last_seq = 0;
  std::string first_time, last_time;
  std::map<std::string, uint64_t> kinds;
  std::set<uint64_t> rounds;              // rounds named by task and sent entries
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;
  std::map<std::string, uint64_t> sent_by_message;  // message kind -> count
  uint64_t secure_sent = 0;                         // sent under secure aggregation
  uint64_t messages_received = 0;                   // "received" entries (the coordinator's log)
  uint64_t bytes_received = 0;
  uint64_t plain_updates_while_secure_required = 0;
  uint64_t refusals = 0;
  std::map<std::string, std::string> keys;  // key name -> last value seen in "start" entries
  std::vector<std::string> key_changes;     // "signing_public_key changed at seq 12"
  std::set<std::string> plans;            // plan hashes seen
  std::set<std::string> approved_plans;   // plan hashes approved
};

// Verifies the chain through `files` (any order: they are sorted by their first seq) and
// summarises what the entries say. Errors only for unreadable files; chain damage is reported
// in the summary (chain_ok false, problems).
Result<AuditSummary> VerifyAudit(const std::vector<std::string>& files);

// Human-readable summary for `fedsmear audit verify`.
std::string FormatAuditSummary(const AuditSummary& summary);

// "4,202,496"
std::string WithThousands(uint64_t n);

}  // namespace fedsmear
