#include "common/governance/audit_describe.h"

#include "common/settings/settings_help.h"

#include <numeric>

#include "common/governance/audit_log.h"
#include "common/sha256.h"

namespace fedsmear {
namespace {

using nlohmann::json;

std::string N(uint64_t n) { return WithThousands(n); }

struct DescribeMessage {
  const AuditContext& c;
  json* f;

  void Task(uint32_t round, uint64_t task_id) {
    (*f)["round"] = round;
    (*f)["task_id"] = task_id;
  }
  std::string operator()(const wire::Hello& m) {
    uint64_t counted = std::accumulate(m.class_counts.begin(), m.class_counts.end(), uint64_t{0});
    return "site id, software version " + m.software_version + ", " + N(m.class_names.size()) +
           " class names, " +
           (m.class_counts.empty() ? std::string("no per-class counts")
                                   : "per-class training counts (" + N(counted) + " in all)") +
           ", " + N(m.num_train) + " training and " + N(m.num_val) + " validation images";
  }
  std::string operator()(const wire::Welcome& m) {
    (*f)["plan_hash"] = m.plan_hash;
    return m.accepted ? "welcome to run " + m.run_id + " with training plan " + m.plan_hash
                      : "site refused: " + m.reason;
  }
  std::string operator()(const wire::TrainTask& m) {
    Task(m.round, m.task_id);
    // The task's training settings that differ from a bare TrainConfig (common/train_config.h).
    const std::string changed = settings::SettingsThatDiffer(m.train, TrainConfig{}, true);
    return "train task: " + m.arch + " model (" + N(m.model.data.size()) + " bytes, " +
           m.model.codec + ")" + (changed.empty() ? std::string() : ", " + changed) +
           (m.class_prior.empty() ? std::string()
                                  : ", logit adjustment toward the pooled class prior");
  }
  std::string Layout() const {
    if (c.binary_weights + c.float_values == 0) return "";
    return ": " + N(c.binary_weights) + " binary weights and " + N(c.float_values) +
           " float values";
  }
  std::string operator()(const wire::Update& m) {
    Task(m.round, m.task_id);
    return "model update of " + N(m.update.data.size()) + " bytes (" +
           (c.codec_up.empty() ? m.update.codec : c.codec_up) + ")" + Layout() +
           ", trained on " + N(m.num_samples) +
           " images, with training and validation loss/accuracy; plain: the coordinator sees "
           "this site's update";
  }
  std::string operator()(const wire::EvaluateTask& m) {
    Task(m.round, m.task_id);
    return "evaluate task: " + m.arch + " model (" + N(m.model.data.size()) + " bytes)";
  }
  std::string operator()(const wire::EvaluateResult& m) {
    Task(m.round, m.task_id);
    return "evaluation of the global model on " + N(m.num_samples) +
           " validation images: loss and accuracy";
  }
  std::string operator()(const wire::Heartbeat&) { return "heartbeat (sequence and time)"; }
  std::string operator()(const wire::Error& m) {
    return std::string("error ") + wire::ErrorCodeName(m.code) + ": " + m.message;
  }
  std::string operator()(const wire::Refusal& m) {
    Task(m.round, m.task_id);
    return "refusal: " + m.reason;
  }
  std::string operator()(const wire::Goodbye& m) { return "goodbye: " + m.reason; }
  std::string operator()(const wire::SecAggSetup& m) {
    Task(m.round, m.task_id);
    return "secure aggregation setup: " + N(m.sites.size()) + " sites, threshold " +
           std::to_string(m.threshold) + ", " + N(m.vector_length) + " words";
  }
  std::string operator()(const wire::SecAggKeys& m) {
    Task(m.round, m.task_id);
    return "two fresh X25519 public keys for this round, signed with the site's Ed25519 key";
  }
  std::string operator()(const wire::SecAggKeysRelay& m) {
    Task(m.round, m.task_id);
    return "public keys of " + N(m.keys.size()) + " neighbours";
  }
  std::string operator()(const wire::SecAggShares& m) {
    Task(m.round, m.task_id);
    return N(m.shares.size()) +
           " Shamir share pairs of this round's mask secrets, each encrypted for one neighbour";
  }
  std::string operator()(const wire::SecAggSharesRelay& m) {
    Task(m.round, m.task_id);
    return N(m.shares.size()) + " encrypted shares from neighbours";
  }
  std::string operator()(const wire::SecAggMasked& m) {
    Task(m.round, m.task_id);
    const uint64_t words = m.masked.size() / 4;
    if (c.bn_moments) {
      return "quantized batch-norm moments of the round's new model, " + N(words) +
             " 32-bit words, masked (only the sum over sites can be unmasked); from " +
             N(m.num_samples) + " training images";
    }
    const std::string binary = c.binary_weights > 0 ? N(c.binary_weights) + " " : "";
    const std::string floats =
        c.float_values > 0 ? " of " + N(c.float_values) + " float values" : "";
    std::string what = c.vote_bits > 0
                           ? "sign votes of " + binary + "binary weights packed " +
                                 std::to_string(c.vote_bits) + " bits wide and quantized deltas" +
                                 floats
                           : "quantized, sample-weighted model delta" + Layout();
    return what + ", " + N(words) + " 32-bit words, masked (only the sum over sites can be "
           "unmasked); trained on " + N(m.num_samples) + " images, with loss/accuracy";
  }
  std::string operator()(const wire::SecAggUnmaskRequest& m) {
    Task(m.round, m.task_id);
    return "unmask request: " + N(m.survivors.size()) + " survivors, " + N(m.dropped.size()) +
           " dropped";
  }
  std::string operator()(const wire::SecAggConsistencyCheck& m) {
    Task(m.round, m.task_id);
    return "consistency check: the survivor set of " + N(m.survivors.size()) + " sites to sign";
  }
  std::string operator()(const wire::SecAggConsistencySignature& m) {
    Task(m.round, m.task_id);
    return "Ed25519 signature over this round's survivor set (before any share is revealed)";
  }
  std::string operator()(const wire::SecAggUnmaskResponse& m) {
    Task(m.round, m.task_id);
    size_t self = 0;
    for (const auto& s : m.shares) self += s.kind == 1 ? 1 : 0;
    return N(m.shares.size()) + " revealed shares (" + N(self) + " of survivors' self masks, " +
           N(m.shares.size() - self) + " of dropped sites' keys)";
  }
};

}  // namespace

bool IsSecAggMessage(const wire::Body& body) {
  return std::holds_alternative<wire::SecAggSetup>(body) ||
         std::holds_alternative<wire::SecAggKeys>(body) ||
         std::holds_alternative<wire::SecAggKeysRelay>(body) ||
         std::holds_alternative<wire::SecAggShares>(body) ||
         std::holds_alternative<wire::SecAggSharesRelay>(body) ||
         std::holds_alternative<wire::SecAggMasked>(body) ||
         std::holds_alternative<wire::SecAggUnmaskRequest>(body) ||
         std::holds_alternative<wire::SecAggUnmaskResponse>(body);
}

json AuditMessageFields(const wire::Body& body, const std::string& encoded,
                        const AuditContext& context) {
  json f;
  const bool secure = IsSecAggMessage(body);
  // A masked vector is the round's update, or (bn_moments) its batch-norm statistics.
  const bool masked = std::holds_alternative<wire::SecAggMasked>(body);
  const bool update = std::holds_alternative<wire::Update>(body) || (masked && !context.bn_moments);
  f["message"] = update ? "update" : masked ? "bnStatistics" : wire::BodyName(body);
  if (update || masked) f["message_kind"] = wire::BodyName(body);
  f["bytes"] = static_cast<uint64_t>(encoded.size());
  f["sha256"] = ToHex(Sha256Of(encoded));
  f["secure"] = secure;
  if (update) f["secure_required"] = context.secure_required;
  f["description"] = std::visit(DescribeMessage{context, &f}, body);
  return f;
}

}  // namespace fedsmear
