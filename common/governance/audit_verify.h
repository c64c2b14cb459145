// Verifying an audit log (common/governance/audit_log.h) for `fedsmear audit verify`, and the
// anchors that tie its tail to something its writer cannot rewrite.
//
// What a verification proves (docs/security.md, "The audit trail"):
// - the hash chain: no line inside the given files was edited, removed, inserted or reordered
//   without the chain showing it, unless the chain was recomputed from that point on;
// - signatures (format 2): a recomputed chain needs the writer's key. With the writer's key pinned
//   (`keys`, from NAME.sign.pub or the roster) a log re-chained or rewritten by anyone without
//   that key is always detected; unpinned, a log re-chained whole under another key is not, but a
//   change of key inside the log is. An unsigned or older-format entry after signed ones is
//   tampering. Older unsigned logs (format 1) get the verdict "unsigned (older format)";
// - anchors: a signed chain can still lose its last lines. An anchor records that entry `seq`
//   existed with line hash `sha256`; a log that ends before an anchor, or whose entry differs, was
//   cut or rewritten. Anchors are a head saved elsewhere (`fedsmear audit head`) or the other
//   side's audit log (`peer_files`: every message the coordinator recorded as received from this
//   site must be one this site's log recorded as sent, by the SHA-256 of its bytes). Entries after
//   the last anchor can be cut without a trace.
//
// Thread-safety: reentrant functions over values. Ownership: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace fedsmear {

// Entry `seq` of a log had line hash `sha256` (hex).
struct AuditAnchor {
  uint64_t seq = 0;
  std::string sha256;
  std::string signer;  // the entry's signer key (hex), "" when unsigned
  std::string time;    // the entry's time
  std::string origin;  // where the anchor came from (file:line), for messages
};

struct AuditVerifyOptions {
  std::vector<std::string> keys;        // hex Ed25519 keys the entries must be signed by
  std::vector<AuditAnchor> anchors;     // heads saved elsewhere
  std::vector<std::string> peer_files;  // the other side's audit log (the coordinator's)
};

enum class AuditSigning {
  kEmpty,       // no entries
  kOlderFormat, // format 1 only: unsigned (older format)
  kUnsigned,    // format 2 written without a key
  kSigned,      // every format-2 entry signed (an unsigned older prefix may precede them)
};

struct AuditSummary {
  bool chain_ok = true;
  std::vector<std::string> problems;  // each names the file and line
  std::vector<std::string> notes;     // e.g. the chain starts after seq 1 (older files missing)
  uint64_t entries = 0;
  uint64_t first_seq = 0, last_seq = 0;
  std::string first_time, last_time;
  std::string last_hash;              // SHA-256 of the last entry's line
  std::string last_signer;            // hex key of the last signed entry
  AuditSigning signing = AuditSigning::kEmpty;
  uint64_t signed_entries = 0;
  uint64_t unsigned_entries = 0;      // format 1 or unsigned format 2
  std::vector<std::string> signers;   // distinct signer keys, in order of appearance
  bool signers_pinned = false;        // every signer is one of AuditVerifyOptions::keys
  uint64_t anchored_seq = 0;          // highest seq an anchor confirmed (0: none)
  std::vector<std::string> anchor_sources;  // what confirmed it
  std::string site_id;                // from the log's "start" entries (a site's log)
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

// Verifies the chain through `files` (any order: they are sorted by their first seq), its
// signatures and anchors, and summarises what the entries say. Errors only for unreadable
// files; damage is reported in the summary (chain_ok false, problems).
Result<AuditSummary> VerifyAudit(const std::vector<std::string>& files,
                                 const AuditVerifyOptions& options = {});

// Human-readable summary for `fedsmear audit verify`, ending with what the check proves.
std::string FormatAuditSummary(const AuditSummary& summary);

// The head of a verified chain as an anchor (`fedsmear audit head`). Errors: a broken or empty
// chain.
Result<AuditAnchor> AuditHead(const std::vector<std::string>& files);
// One canonical JSON line: {"anchor":"fedsmear-audit-head","format":1,"seq":..,"sha256":..,
// "signer":..,"time":..}.
std::string FormatAnchor(const AuditAnchor& anchor);
// The anchors of a file of such lines (blank lines and '#' comments ignored).
Result<std::vector<AuditAnchor>> LoadAuditAnchors(const std::string& path);

// "4,202,496"
std::string WithThousands(uint64_t n);

}  // namespace fedsmear
