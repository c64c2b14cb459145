// What an audit log's entries say, and the summary `fedsmear audit verify` prints
// (common/governance/audit_verify.h).
#include <sstream>

#include "common/governance/audit_chain.h"
#include "common/governance/audit_verify.h"

namespace fedsmear {
namespace audit_internal {

using nlohmann::json;

uint64_t U64(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}
std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

namespace {
bool Flag(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}
}  // namespace

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
    if (!Str(fields, "site_id").empty()) s->site_id = Str(fields, "site_id");
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

}  // namespace audit_internal

namespace {

std::string Short(const std::string& key) { return key.substr(0, 16) + "..."; }

// What the check proves, in the words docs/security.md uses.
void Verdict(const AuditSummary& s, std::ostringstream& out) {
  switch (s.signing) {
    case AuditSigning::kEmpty:
      out << "signatures: none (empty log)\n";
      return;
    case AuditSigning::kOlderFormat:
      out << "signatures: unsigned (older format)\n"
          << "proves: no line was edited, removed or reordered without recomputing the chain; "
             "a log re-chained from any point, or cut at the end, passes\n";
      break;
    case AuditSigning::kUnsigned:
      out << "signatures: unsigned (the writer had no signing_key_file)\n"
          << "proves: no line was edited, removed or reordered without recomputing the chain; "
             "a log re-chained from any point, or cut at the end, passes\n";
      break;
    case AuditSigning::kSigned: {
      out << "signatures: " << WithThousands(s.signed_entries) << " entries signed by";
      for (const std::string& k : s.signers) out << " ed25519 " << Short(k);
      out << (s.signers_pinned ? " (the key given with --key)" : " (key not pinned)") << "\n";
      if (s.unsigned_entries > 0) {
        out << "  note: the first " << WithThousands(s.unsigned_entries)
            << " entries are unsigned (written before the writer had a key); the signed "
               "entries chain over them\n";
      }
      out << "proves: no entry was forged, edited, removed, inserted or reordered by anyone "
             "without the signing key";
      if (!s.signers_pinned) {
        out << "; pass --key SITE.sign.pub so that a log rewritten whole under another key is "
               "detected too";
      }
      out << "\n";
      break;
    }
  }
  if (s.anchored_seq > 0) {
    out << "anchored: up to seq " << s.anchored_seq << " (";
    for (size_t i = 0; i < s.anchor_sources.size(); ++i) {
      out << (i ? ", " : "") << s.anchor_sources[i];
    }
    out << "): a cut before it is detected";
    if (s.last_seq > s.anchored_seq) {
      out << "; the " << WithThousands(s.last_seq - s.anchored_seq)
          << " entries after it could be cut without a trace";
    }
    out << "\n";
  } else {
    out << "anchored: no (a cut tail is not detected; give --anchor FILE saved with `fedsmear "
           "audit head`, or --peer COORDINATOR_AUDIT.jsonl)\n";
  }
}

}  // namespace

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
  Verdict(s, out);
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
