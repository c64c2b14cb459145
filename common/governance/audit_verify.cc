// VerifyAudit, its signature and anchor checks, and anchors (common/governance/audit_verify.h).
#include "common/governance/audit_verify.h"

#include <algorithm>
#include <map>

#include "common/file_util.h"
#include "common/governance/audit_chain.h"
#include "common/governance/audit_key.h"
#include "common/sha256.h"

namespace fedsmear {
namespace audit_internal {

using nlohmann::json;

std::string Canonical(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::vector<Line>> LoadChain(const std::vector<std::string>& paths,
                                    std::vector<std::string>* problems) {
  struct File {
    std::vector<Line> lines;
    uint64_t first_seq = UINT64_MAX;
  };
  std::vector<File> files;
  for (const std::string& path : paths) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    File f;
    size_t pos = 0;
    size_t lineno = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      ++lineno;
      const std::string where = path + ":" + std::to_string(lineno);
      if (end == std::string::npos) {
        problems->push_back(where + ": torn last line (no newline)");
        end = text.size();
      }
      Line line{text.substr(pos, end - pos), json(), where};
      line.doc = json::parse(line.text, nullptr, false);
      if (line.doc.is_discarded() || !line.doc.is_object() || Canonical(line.doc) != line.text ||
          !line.doc.contains("seq") || !line.doc["seq"].is_number_unsigned() ||
          Str(line.doc, "prev").size() != 64) {
        problems->push_back(where + ": not a canonical audit entry (edited?)");
        line.doc = json(json::value_t::discarded);
      } else if (f.first_seq == UINT64_MAX) {
        f.first_seq = line.doc["seq"].get<uint64_t>();
      }
      f.lines.push_back(std::move(line));
      pos = end + 1;
    }
    if (!f.lines.empty()) files.push_back(std::move(f));
  }
  std::stable_sort(files.begin(), files.end(),
                   [](const File& a, const File& b) { return a.first_seq < b.first_seq; });
  std::vector<Line> out;
  for (File& f : files) {
    for (Line& l : f.lines) out.push_back(std::move(l));
  }
  return out;
}

}  // namespace audit_internal

namespace {

using nlohmann::json;
using audit_internal::Canonical;
using audit_internal::Line;
using audit_internal::Str;
using audit_internal::U64;

// Signature state along the chain.
struct SignatureCheck {
  explicit SignatureCheck(const AuditVerifyOptions& o) : options(o) {}
  const AuditVerifyOptions& options;
  bool seen_format2 = false;
  std::string signer;  // of the last signed entry

  // Problems of one entry's format and signature, appended to `s`.
  void Check(const Line& line, AuditSummary* s) {
    const json& e = line.doc;
    const uint64_t format = e.contains("format") ? U64(e, "format") : 1;
    const std::string sig = Str(e, "sig");
    if (format == 1 && !e.contains("sig") && !e.contains("signer")) {
      ++s->unsigned_entries;
      if (seen_format2) {
        s->problems.push_back(line.where +
                              ": an older-format entry after format-2 entries (written by "
                              "something other than this log's writer)");
      }
      return;
    }
    if (format != 2) {
      s->problems.push_back(line.where + ": audit format " + std::to_string(format) +
                            " is unknown to this fedsmear (a newer version wrote it?)");
      return;
    }
    seen_format2 = true;
    if (!e.contains("sig") && !e.contains("signer")) {
      ++s->unsigned_entries;
      if (!signer.empty()) {
        s->problems.push_back(line.where +
                              ": an unsigned entry after signed ones (written without the key)");
      }
      return;
    }
    const std::string key = Str(e, "signer");
    json unsigned_entry = e;
    unsigned_entry.erase("sig");
    if (Status st = AuditVerify(key, Canonical(unsigned_entry), sig); !st.ok()) {
      s->problems.push_back(line.where + ": " + st.message() + " (entry forged or edited)");
      return;
    }
    ++s->signed_entries;
    const bool pinned = std::find(options.keys.begin(), options.keys.end(), key) !=
                        options.keys.end();
    if (!options.keys.empty() && !pinned) {
      s->problems.push_back(line.where + ": signed by ed25519 " + key +
                            ", which is not a key given with --key");
    } else if (options.keys.empty() && !signer.empty() && key != signer) {
      s->problems.push_back(line.where + ": the signing key changes from " + signer + " to " +
                            key + " (a log re-signed from here on; if the writer's key was "
                            "rotated, give both keys with --key)");
    }
    if (std::find(s->signers.begin(), s->signers.end(), key) == s->signers.end()) {
      s->signers.push_back(key);
    }
    signer = key;
  }
};

// Anchors against the chain's line hashes.
void CheckAnchors(const std::vector<AuditAnchor>& anchors,
                  const std::map<uint64_t, std::string>& hashes, AuditSummary* s) {
  for (const AuditAnchor& a : anchors) {
    const std::string name = "anchor " + a.origin + " (seq " + std::to_string(a.seq) + ")";
    if (a.seq > s->last_seq) {
      s->problems.push_back(name + ": the log ends at seq " + std::to_string(s->last_seq) +
                            " but entry " + std::to_string(a.seq) + " existed at " + a.time +
                            ": the tail was cut");
      continue;
    }
    auto it = hashes.find(a.seq);
    if (it == hashes.end()) {
      s->notes.push_back(name + ": that entry is in a file that was not given");
      continue;
    }
    if (it->second != a.sha256) {
      s->problems.push_back(name + ": entry " + std::to_string(a.seq) +
                            " is not the one anchored (the log was rewritten from there on)");
      continue;
    }
    s->anchored_seq = std::max(s->anchored_seq, a.seq);
    s->anchor_sources.push_back(a.origin);
  }
}

// Every message the peer (the coordinator) recorded as received from this site must be a "sent"
// entry of this log.
Status CheckPeer(const std::vector<std::string>& peer_files,
                 const std::map<std::string, uint64_t>& sent_seq, AuditSummary* s) {
  ASSIGN_OR_RETURN(AuditSummary peer, VerifyAudit(peer_files));
  const std::string peer_name = peer_files.empty() ? "" : peer_files.back();
  if (!peer.chain_ok) {
    s->problems.push_back("the peer log " + peer_name + " is itself broken, so it anchors "
                          "nothing (`fedsmear audit verify` it on its own)");
    return Status::Ok();
  }
  if (s->site_id.empty()) {
    s->notes.push_back("--peer checks a site's log (with a start entry naming the site) against "
                       "the coordinator's; this log names no site");
    return Status::Ok();
  }
  std::vector<std::string> ignored;
  ASSIGN_OR_RETURN(std::vector<Line> lines, audit_internal::LoadChain(peer_files, &ignored));
  uint64_t matched = 0, anchored = 0;
  for (const Line& line : lines) {
    if (line.doc.is_discarded() || Str(line.doc, "kind") != "received") continue;
    const json& f = line.doc["fields"];
    if (!f.is_object() || Str(f, "site") != s->site_id || Str(f, "sha256").empty()) continue;
    // Older rotated files of this log were not given: messages from before it start say nothing.
    if (s->first_seq > 1 && Str(line.doc, "time") < s->first_time) continue;
    auto it = sent_seq.find(Str(f, "sha256"));
    if (it == sent_seq.end()) {
      s->problems.push_back("the coordinator's log (" + line.where + ", " +
                            Str(line.doc, "time") + ") received a " + Str(f, "message") +
                            " message " + Str(f, "sha256").substr(0, 16) +
                            "... from " + s->site_id +
                            " that this log never recorded as sent: entries were cut or removed");
      continue;
    }
    ++matched;
    anchored = std::max(anchored, it->second);
  }
  if (anchored > 0) {
    s->anchored_seq = std::max(s->anchored_seq, anchored);
    s->anchor_sources.push_back(std::to_string(matched) + " messages in " + peer_name);
  }
  return Status::Ok();
}

}  // namespace

Result<AuditSummary> VerifyAudit(const std::vector<std::string>& paths,
                                 const AuditVerifyOptions& options) {
  AuditSummary s;
  ASSIGN_OR_RETURN(std::vector<Line> lines, audit_internal::LoadChain(paths, &s.problems));
  SignatureCheck signatures(options);
  std::map<uint64_t, std::string> hashes;     // seq -> line hash
  std::map<std::string, uint64_t> sent_seq;   // sent message sha256 -> seq
  std::string prev_hash;
  uint64_t prev_seq = 0;
  bool first = true;
  for (const Line& line : lines) {
    const std::string hash = ToHex(Sha256Of(line.text));
    if (!line.doc.is_discarded()) {
      const uint64_t seq = line.doc["seq"].get<uint64_t>();
      const std::string prev = Str(line.doc, "prev");
      if (first) {
        if (seq != 1) {
          s.notes.push_back("the chain starts at seq " + std::to_string(seq) +
                            ": earlier entries (older rotated files) were not given");
        } else if (prev != std::string(64, '0')) {
          s.problems.push_back(line.where + ": first entry does not start a chain");
        }
        s.first_seq = seq;
        s.first_time = Str(line.doc, "time");
      } else {
        if (seq != prev_seq + 1) {
          s.problems.push_back(line.where + ": seq " + std::to_string(seq) + " follows seq " +
                               std::to_string(prev_seq) + " (entries removed or reordered)");
        }
        if (prev != prev_hash) {
          s.problems.push_back(line.where +
                               ": prev is not the hash of the entry before it (an entry was "
                               "edited, removed, inserted or reordered)");
        }
      }
      signatures.Check(line, &s);
      hashes[seq] = hash;
      if (Str(line.doc, "kind") == "sent" && line.doc["fields"].is_object()) {
        const std::string sha = Str(line.doc["fields"], "sha256");
        if (!sha.empty()) sent_seq.emplace(sha, seq);
      }
      prev_seq = seq;
      s.last_seq = seq;
      s.last_time = Str(line.doc, "time");
      s.last_hash = hash;
      s.last_signer = Str(line.doc, "signer");
      ++s.entries;
      audit_internal::Summarise(line.doc, &s);
    }
    first = false;
    prev_hash = hash;
  }
  if (s.entries > 0) {
    s.signing = s.signed_entries > 0       ? AuditSigning::kSigned
                : signatures.seen_format2  ? AuditSigning::kUnsigned
                                           : AuditSigning::kOlderFormat;
  }
  s.signers_pinned = !options.keys.empty() && !s.signers.empty();
  for (const std::string& k : s.signers) {
    if (std::find(options.keys.begin(), options.keys.end(), k) == options.keys.end()) {
      s.signers_pinned = false;
    }
  }
  if (!options.keys.empty() && s.entries > 0 && s.signed_entries == 0) {
    s.problems.push_back("the log is unsigned, but --key expects entries signed by that key");
  }
  CheckAnchors(options.anchors, hashes, &s);
  if (!options.peer_files.empty()) RETURN_IF_ERROR(CheckPeer(options.peer_files, sent_seq, &s));
  s.chain_ok = s.problems.empty();
  return s;
}

Result<AuditAnchor> AuditHead(const std::vector<std::string>& files) {
  ASSIGN_OR_RETURN(AuditSummary s, VerifyAudit(files));
  if (!s.chain_ok) {
    return FailedPrecondition("the chain is broken; an anchor of it would anchor nothing:\n" +
                              FormatAuditSummary(s));
  }
  if (s.entries == 0) return FailedPrecondition("the audit log has no entries");
  return AuditAnchor{s.last_seq, s.last_hash, s.last_signer, s.last_time, ""};
}

std::string FormatAnchor(const AuditAnchor& a) {
  return Canonical(json{{"anchor", "fedsmear-audit-head"},
                        {"format", 1},
                        {"seq", a.seq},
                        {"sha256", a.sha256},
                        {"signer", a.signer},
                        {"time", a.time}});
}

Result<std::vector<AuditAnchor>> LoadAuditAnchors(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, 64 << 20));
  std::vector<AuditAnchor> out;
  size_t pos = 0, lineno = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++lineno;
    const std::string where = path + ":" + std::to_string(lineno);
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || Str(j, "anchor") != "fedsmear-audit-head" ||
        U64(j, "format") != 1 || U64(j, "seq") == 0 || Str(j, "sha256").size() != 64) {
      return InvalidArgument(where + ": not an audit anchor (`fedsmear audit head` writes them)");
    }
    out.push_back({U64(j, "seq"), Str(j, "sha256"), Str(j, "signer"), Str(j, "time"), where});
  }
  return out;
}

}  // namespace fedsmear
