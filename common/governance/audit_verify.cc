// VerifyAudit and its summary (common/governance/audit_log.h).
#include <algorithm>
#include <sstream>

#include "common/file_util.h"
#include "common/governance/audit_log.h"
#include "common/sha256.h"

namespace fedsmear {
namespace {

using nlohmann::json;

struct Line {
  std::string text;
  json doc;  // discarded when the line is not canonical JSON
  std::string where;
};

struct File {
  std::string path;
  std::vector<Line> lines;
  uint64_t first_seq = UINT64_MAX;
};

uint64_t U64(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}
bool Flag(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}
std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

void Summarise(const json& e, AuditSummary* s) {
  const std::string kind = Str(e, "kind");
  const json fields =
      e.contains("fields") && e["fields"].is_object() ? e["fields"] : json::object();
  ++s->kinds[kind];
  if (fields.contains("round") && U64(fields, "round") > 0) s->rounds.insert(U64(fields, "round"));
  if (!Str(fields, "plan_hash").empty()) s->plans.insert(Str(fields, "plan_hash"));
  if (kind == "plan_approved") s->approved_plans.insert(Str(fields, "plan_hash"));
  if (kind == "refused") ++s->refusals;
  if (kind == "start") {
    // Identity keys (the site's signing key, the coordinator's allowlist) as each start saw them.
    for (const char* key : {"signing_public_key", "allowed_sites_sha256"}) {
      if (!fields.contains(key)) continue;
      const std::string value = Str(fields, key);
      auto it = s->keys.find(key);
      if (it != s->keys.end() && it->second != value) {
        s->key_changes.push_back(std::string(key) + " changed at seq " +
                                 std::to_string(U64(e, "seq")));
      }
      s->keys[key] = value;
    }
  }
  if (kind == "received") {
    ++s->messages_received;
    s->bytes_received += U64(fields, "bytes");
  }
  if (kind == "sent") {
    ++s->messages_sent;
    s->bytes_sent += U64(fields, "bytes");
    const std::string message = Str(fields, "message");
    ++s->sent_by_message[message];
    if (Flag(fields, "secure")) ++s->secure_sent;
    if (message == "update" && !Flag(fields, "secure") && Flag(fields, "secure_required")) {
      ++s->plain_updates_while_secure_required;
    }
  }
}

}  // namespace

Result<AuditSummary> VerifyAudit(const std::vector<std::string>& paths) {
  AuditSummary s;
  std::vector<File> files;
  for (const std::string& path : paths) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    File f{path, {}, UINT64_MAX};
    size_t pos = 0;
    size_t lineno = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      ++lineno;
      const std::string where = path + ":" + std::to_string(lineno);
      if (end == std::string::npos) {
        s.problems.push_back(where + ": torn last line (no newline)");
        end = text.size();
      }
      Line line{text.substr(pos, end - pos), json(), where};
      line.doc = json::parse(line.text, nullptr, false);
      if (line.doc.is_discarded() || !line.doc.is_object() ||
          line.doc.dump(-1, ' ', false, json::error_handler_t::replace) != line.text ||
          !line.doc.contains("seq") || !line.doc["seq"].is_number_unsigned() ||
          Str(line.doc, "prev").size() != 64) {
        s.problems.push_back(where + ": not a canonical audit entry (edited?)");
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
  std::string prev_hash;
  uint64_t prev_seq = 0;
  bool first = true;
  for (const File& f : files) {
    for (const Line& line : f.lines) {
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
        prev_seq = seq;
        s.last_seq = seq;
        s.last_time = Str(line.doc, "time");
        ++s.entries;
        Summarise(line.doc, &s);
      }
      first = false;
      prev_hash = hash;
    }
  }
  s.chain_ok = s.problems.empty();
  return s;
}

std::string FormatAuditSummary(const AuditSummary& s) {
  std::ostringstream out;
  out << (s.chain_ok ? "chain OK" : "CHAIN BROKEN") << ": " << WithThousands(s.entries)
      << " entries";
  if (s.entries > 0) {
    out << ", seq " << s.first_seq << ".." << s.last_seq << ", " << s.first_time << " to "
        << s.last_time;
  }
  out << "\n";
  for (const std::string& p : s.problems) out << "  problem: " << p << "\n";
  for (const std::string& n : s.notes) out << "  note: " << n << "\n";
  out << "rounds: " << s.rounds.size();
  if (!s.rounds.empty()) out << " (" << *s.rounds.begin() << ".." << *s.rounds.rbegin() << ")";
  out << "\nmessages sent: " << WithThousands(s.messages_sent) << ", "
      << WithThousands(s.bytes_sent) << " bytes (" << WithThousands(s.secure_sent)
      << " under secure aggregation)\n";
  for (const auto& [message, n] : s.sent_by_message) {
    out << "  " << message << ": " << WithThousands(n) << "\n";
  }
  if (s.messages_received > 0) {
    out << "messages received: " << WithThousands(s.messages_received) << ", "
        << WithThousands(s.bytes_received) << " bytes\n";
  }
  out << "plain updates sent while secure aggregation was required: "
      << s.plain_updates_while_secure_required << "\n";
  out << "refusals: " << s.refusals << "\n";
  for (const std::string& k : s.key_changes) out << "key change: " << k << "\n";
  for (const std::string& p : s.plans) {
    out << "plan " << p << (s.approved_plans.count(p) ? " (approved in this log)" : "") << "\n";
  }
  out << "entries by kind:";
  for (const auto& [kind, n] : s.kinds) out << " " << kind << "=" << n;
  out << "\n";
  return out.str();
}

}  // namespace fedsmear
