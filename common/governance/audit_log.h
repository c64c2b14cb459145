// The append-only, hash-chained, signed audit log a site (and the coordinator) keeps of what it
// received, decided and sent (docs/deploy.md, "Audit log"; what it proves: docs/security.md).
//
// One JSON object per line, canonical (sorted keys, no whitespace). Format 2:
//   {"fields":{...},"format":2,"kind":"sent","prev":"<64 hex>","seq":17,"sig":"<128 hex>",
//    "signer":"<64 hex>","time":"2026-11-28T17:02:11.123Z"}
// `prev` is the SHA-256 of the previous line's bytes (without its newline); the first entry of a
// chain has 64 zeros. `sig` is the writer's Ed25519 signature (common/governance/audit_key.h) of
// the line without its "sig" member, `signer` the writer's public key; a writer without a key
// writes format 2 without both. Format 1 (no "format" member, never signed) is the older layout,
// still read and verified. When the active file reaches max_file_bytes it is renamed PATH.N
// (N = 1, 2, ...) and PATH starts afresh; its first entry points at the last line of PATH.N, so
// the chain runs across files. When the rename is not permitted (the file or folder is
// append-only: `chattr +a`, docs/deploy.md) the log keeps growing in PATH instead.
//
// Append() takes an exclusive flock on DIR/.NAME.lock and reads the chain's tail from disk each
// time, so the daemon and `fedsmear-client plan approve` can append to the same log. Each line is
// written with one write() to a descriptor opened O_APPEND|O_NOFOLLOW and fdatasync'ed; nothing
// in this class rewrites or truncates a line.
//
// Thread-safety: Append() may be called from any thread (the lock serialises writers, in and
// across processes). Ownership: holds the path and the signing key; move-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/governance/audit_key.h"
#include "common/governance/audit_verify.h"
#include "common/status.h"

namespace fedsmear {

inline constexpr uint64_t kDefaultAuditFileBytes = uint64_t{16} << 20;

class AuditLog {
 public:
  // Creates the folder if needed and checks that the chain's tail is readable (a torn or
  // foreign last line is an error: move the file aside, it is evidence, and restart).
  // `sync`: every entry reaches the disk (fdatasync) before Append returns; false only for
  // simulations, where a power cut may lose the last entries. `signer`: the key that signs every
  // entry; without one the entries are unsigned, and a log whose last entry is signed is refused
  // (an unsigned entry after signed ones would read as tampering).
  static Result<AuditLog> Open(const std::string& path,
                               uint64_t max_file_bytes = kDefaultAuditFileBytes, bool sync = true,
                               std::optional<AuditSigner> signer = std::nullopt);

  // Appends one entry of `kind` with `fields` (a JSON object).
  Status Append(const std::string& kind, nlohmann::json fields);

  const std::string& path() const { return path_; }

 private:
  AuditLog(std::string path, uint64_t max_file_bytes, bool sync,
           std::optional<AuditSigner> signer)
      : path_(std::move(path)),
        max_file_bytes_(max_file_bytes),
        sync_(sync),
        signer_(std::move(signer)) {}
  std::string path_;
  uint64_t max_file_bytes_;
  bool sync_;
  std::optional<AuditSigner> signer_;
};

// The rotated files of the log at `path` followed by `path` itself, oldest first.
std::vector<std::string> AuditFiles(const std::string& path);

}  // namespace fedsmear
