// Semantic checks of a Message: list consistency, numeric ranges and text sizes. Training
// settings are checked against their descriptions (common/train_config.h), the same ranges the
// config loaders apply, so a task the coordinator could configure always passes.
#include <cmath>
#include <set>
#include <string>
#include <utility>

#include "common/wire/messages.h"
#include "common/wire/wire_settings.h"

namespace fedsmear::wire {
namespace {

constexpr uint32_t kMaxInputSize = 16384;
constexpr size_t kMaxIdBytes = 256;

Status Check(bool ok, const std::string& what) {
  return ok ? Status::Ok() : InvalidArgument(what);
}

bool IsLowerHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Finite and within [lo, hi].
Status Range(double v, double lo, double hi, const char* field) {
  return Check(std::isfinite(v) && v >= lo && v <= hi,
               std::string(field) + " = " + std::to_string(v) + " is outside [" +
                   std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

// NaN (not measured) or within [lo, hi]; infinity allowed only when hi is.
Status Metric(double v, double lo, double hi, const char* field) {
  return Check(std::isnan(v) || (v >= lo && v <= hi),
               std::string(field) + " = " + std::to_string(v) + " is out of range");
}

Status Texts(const std::vector<std::string>& names, const char* field, bool nonempty) {
  for (const auto& n : names) {
    if (nonempty && n.empty()) return InvalidArgument(std::string(field) + " has an empty name");
    if (n.size() > kMaxIdBytes) return InvalidArgument(std::string(field) + " entry too long");
  }
  return Status::Ok();
}

// A blob's codec is a registry name the receiver parses (models/); here only its size.
Status BlobCodec(const ModelBlob& blob) {
  return Check(!blob.codec.empty() && blob.codec.size() <= 64, "codec must be 1-64 bytes");
}

Status ModelShape(const std::string& arch, uint32_t num_classes, uint32_t input_size,
                  const std::vector<std::string>& class_names, const DecodeLimits& limits) {
  RETURN_IF_ERROR(Check(!arch.empty() && arch.size() <= kMaxIdBytes, "arch must be 1-256 bytes"));
  RETURN_IF_ERROR(Check(num_classes >= 1 && num_classes <= limits.max_classes,
                        "num_classes = " + std::to_string(num_classes) + " is out of range"));
  RETURN_IF_ERROR(Check(input_size >= 1 && input_size <= kMaxInputSize,
                        "input_size = " + std::to_string(input_size) + " is out of range"));
  RETURN_IF_ERROR(Check(class_names.empty() || class_names.size() == num_classes,
                        "class_names has " + std::to_string(class_names.size()) +
                            " entries but num_classes is " + std::to_string(num_classes)));
  return Texts(class_names, "class_names", /*nonempty=*/true);
}

// Every wire-carried training setting inside the range its description gives.
Status TrainSettings(const TrainConfig& t) {
  WireRanges ranges("train.");
  Describe(t, ranges);
  return ranges.status();
}

Status TrainMetricsOk(const TrainMetrics& x) {
  RETURN_IF_ERROR(Metric(x.train_loss, 0, INFINITY, "metrics.train_loss"));
  RETURN_IF_ERROR(Metric(x.train_accuracy, 0, 1, "metrics.train_accuracy"));
  RETURN_IF_ERROR(Metric(x.val_loss, 0, INFINITY, "metrics.val_loss"));
  RETURN_IF_ERROR(Metric(x.val_accuracy, 0, 1, "metrics.val_accuracy"));
  return Check(std::isfinite(x.train_seconds) && x.train_seconds >= 0,
               "metrics.train_seconds must be finite and >= 0");
}

// AES-GCM nonce (12) + tag (16) around a non-empty share pair.
constexpr size_t kMinSealedBytes = 29;

constexpr uint32_t kMaxBnCalibrationImages = 1000000;

class Validator {
 public:
  explicit Validator(const DecodeLimits& limits) : limits_(limits) {}

  Status operator()(const Hello& m) const {
    RETURN_IF_ERROR(Check(IsValidSiteId(m.site_id), "site_id '" + m.site_id + "' is not valid"));
    RETURN_IF_ERROR(Check(m.class_names.size() <= limits_.max_classes, "too many class_names"));
    RETURN_IF_ERROR(Texts(m.class_names, "class_names", /*nonempty=*/true));
    return Check(m.class_counts.empty() || m.class_counts.size() == m.class_names.size(),
                 "class_counts has " + std::to_string(m.class_counts.size()) +
                     " entries for " + std::to_string(m.class_names.size()) + " class_names");
  }

  Status operator()(const Welcome& m) const {
    RETURN_IF_ERROR(Check(m.plan.size() <= limits_.max_plan_bytes, "plan is too large"));
    RETURN_IF_ERROR(Check(m.plan.empty() == m.plan_hash.empty() &&
                              (m.plan_hash.empty() || IsLowerHex64(m.plan_hash)),
                          "plan_hash must be 64 lowercase hex digits, given with the plan"));
    return Check(!m.accepted || (m.heartbeat_ms >= 1 && m.heartbeat_ms <= 3600 * 1000),
                 "heartbeat_ms must be in [1, 3600000] when accepted");
  }

  Status operator()(const TrainTask& m) const {
    RETURN_IF_ERROR(ModelShape(m.arch, m.num_classes, m.input_size, m.class_names, limits_));
    RETURN_IF_ERROR(BlobCodec(m.model));
    RETURN_IF_ERROR(TrainSettings(m.train));
    // The codec's name is parsed by the site (models/codec.h); here only its size is checked.
    RETURN_IF_ERROR(Check(!m.codec_up.empty() && m.codec_up.size() <= 64,
                          "codec_up must be 1-64 bytes"));
    RETURN_IF_ERROR(ClassPrior(m.class_prior, m.num_classes));
    return Check(std::isfinite(m.latent_epsilon) && m.latent_epsilon > 0 &&
                     m.latent_epsilon <= 1,
                 "latent_epsilon must be in (0, 1]");
  }

  // Empty, or a distribution over the model's classes.
  static Status ClassPrior(const std::vector<double>& prior, uint32_t classes) {
    if (prior.empty()) return Status::Ok();
    RETURN_IF_ERROR(Check(prior.size() == classes,
                          "class_prior has " + std::to_string(prior.size()) + " entries for " +
                              std::to_string(classes) + " classes"));
    double sum = 0;
    for (double p : prior) {
      RETURN_IF_ERROR(Check(std::isfinite(p) && p >= 0, "class_prior holds a negative or "
                                                        "non-finite share"));
      sum += p;
    }
    return Check(std::fabs(sum - 1) <= 1e-6, "class_prior does not sum to 1");
  }

  Status operator()(const Update& m) const {
    RETURN_IF_ERROR(Check(m.num_samples >= 1, "num_samples must be >= 1"));
    RETURN_IF_ERROR(Check(!m.update.data.empty(), "update data is empty"));
    RETURN_IF_ERROR(BlobCodec(m.update));
    return TrainMetricsOk(m.metrics);
  }

  Status operator()(const EvaluateTask& m) const {
    RETURN_IF_ERROR(BlobCodec(m.model));
    RETURN_IF_ERROR(Check(m.bn_calibration_images <= kMaxBnCalibrationImages,
                          "bn_calibration_images is out of range"));
    RETURN_IF_ERROR(Check(m.bn_calibration_images == 0 ||
                              (m.bn_calibration_batch >= 2 && m.bn_calibration_batch <= 4096),
                          "bn_calibration_batch must be in [2, 4096] with calibration"));
    RETURN_IF_ERROR(Check(!m.secure_aggregation || m.bn_calibration_images > 0,
                          "a secure evaluate task asks for batch-norm statistics"));
    return ModelShape(m.arch, m.num_classes, m.input_size, m.class_names, limits_);
  }

  Status operator()(const EvaluateResult& m) const {
    RETURN_IF_ERROR(Metric(m.loss, 0, INFINITY, "loss"));
    RETURN_IF_ERROR(Check((m.bn_images == 0) == m.bn_statistics.data.empty(),
                          "bn_statistics and bn_images come together"));
    if (m.bn_images > 0) RETURN_IF_ERROR(Check(m.bn_statistics.codec == "f32",
                                               "bn_statistics codec must be f32"));
    return Metric(m.accuracy, 0, 1, "accuracy");
  }

  Status operator()(const Heartbeat&) const { return Status::Ok(); }
  Status operator()(const Error&) const { return Status::Ok(); }
  Status operator()(const Refusal&) const { return Status::Ok(); }
  Status operator()(const Goodbye&) const { return Status::Ok(); }

  Status operator()(const SecAggSetup& m) const {
    const size_t n = m.sites.size();
    RETURN_IF_ERROR(Check(n >= 1 && n <= limits_.max_secagg_sites, "sites must be 1..limit"));
    std::vector<bool> seen(n + 1, false);
    std::set<std::string> ids;
    for (const SecAggSite& e : m.sites) {
      RETURN_IF_ERROR(Check(IsValidSiteId(e.site_id), "site id '" + e.site_id + "' is not valid"));
      RETURN_IF_ERROR(Check(ids.insert(e.site_id).second, "site " + e.site_id + " listed twice"));
      RETURN_IF_ERROR(Check(e.secagg_id >= 1 && e.secagg_id <= n && !seen[e.secagg_id],
                            "secagg ids must be exactly 1..n"));
      seen[e.secagg_id] = true;
      RETURN_IF_ERROR(Check(e.sign_public_key.size() == 32, "sign_public_key must be 32 bytes"));
    }
    RETURN_IF_ERROR(Check(m.threshold >= 1 && m.threshold <= n, "threshold must be in 1..n"));
    RETURN_IF_ERROR(
        Check(m.neighbours >= 1 && m.neighbours + 1 <= n && m.threshold <= m.neighbours + 1,
              "neighbours must be in 1..n-1 and >= threshold-1"));
    RETURN_IF_ERROR(Check(m.mask_bits >= 1 && m.mask_bits <= 32, "mask_bits must be in 1..32"));
    RETURN_IF_ERROR(Check(m.graph_seed.size() == 32, "graph_seed must be 32 bytes"));
    RETURN_IF_ERROR(Check(m.model_sha256.size() == 32, "model_sha256 must be 32 bytes"));
    RETURN_IF_ERROR(Range(m.clip, 1e-9, 1e9, "clip"));
    RETURN_IF_ERROR(Range(m.stat_clip, 1e-9, 1e9, "stat_clip"));
    RETURN_IF_ERROR(Check(m.total_weight >= 1, "total_weight must be >= 1"));
    // Sign votes: every site's weight fits, and so does their sum (no carry between fields).
    RETURN_IF_ERROR(Check(m.vote_bits <= 32 && (m.vote_bits == 0 || m.mask_bits == 32),
                          "vote_bits must be in 0..32 and needs mask_bits 32"));
    uint64_t vote_sum = 0, weight_sum = 0;
    RETURN_IF_ERROR(Check(m.weight_cap >= 1, "weight_cap must be >= 1"));
    RETURN_IF_ERROR(Check(m.purpose != SecAggPurpose::kBnStatistics || m.vote_bits == 0,
                          "a batch-norm statistics session has no votes"));
    for (const SecAggSite& e : m.sites) {
      RETURN_IF_ERROR(Check(e.weight >= 1 && e.weight <= m.weight_cap,
                            "a site's weight must be in 1..weight_cap"));
      RETURN_IF_ERROR(Check(!__builtin_add_overflow(weight_sum, e.weight, &weight_sum),
                            "the weights overflow"));
      RETURN_IF_ERROR(Check(m.vote_bits == 0 ? e.vote_weight == 0 : e.vote_weight >= 1,
                            "vote_weight must be >= 1 with vote_bits, else 0"));
      vote_sum += e.vote_weight;
    }
    RETURN_IF_ERROR(Check(m.vote_bits == 0 || vote_sum < (uint64_t{1} << m.vote_bits),
                          "the vote weights overflow vote_bits"));
    RETURN_IF_ERROR(Check(weight_sum == m.total_weight, "total_weight is not the sum of the "
                                                        "sites' weights"));
    return Check(m.vector_length >= 1 && m.vector_length <= limits_.max_message_bytes / 4,
                 "vector_length is out of range");
  }

  Status operator()(const SecAggKeys& m) const {
    return Check(m.c_pk.size() == 32 && m.s_pk.size() == 32 && m.signature.size() == 64,
                 "keys must be 32 bytes and the signature 64");
  }

  Status operator()(const SecAggKeysRelay& m) const {
    RETURN_IF_ERROR(Check(m.keys.size() <= limits_.max_secagg_sites, "too many keys"));
    std::set<uint32_t> ids;
    for (const SecAggPeerKeys& k : m.keys) {
      RETURN_IF_ERROR(Check(k.secagg_id >= 1 && ids.insert(k.secagg_id).second,
                            "secagg ids must be >= 1 and unique"));
      RETURN_IF_ERROR(Check(k.c_pk.size() == 32 && k.s_pk.size() == 32 && k.signature.size() == 64,
                            "keys must be 32 bytes and signatures 64"));
    }
    return Status::Ok();
  }

  Status Shares(const std::vector<SecAggShare>& shares) const {
    RETURN_IF_ERROR(Check(shares.size() <= limits_.max_secagg_sites, "too many shares"));
    std::set<std::pair<uint32_t, uint32_t>> pairs;
    for (const SecAggShare& e : shares) {
      RETURN_IF_ERROR(
          Check(e.from >= 1 && e.to >= 1 && e.from != e.to, "share ids must be >= 1 and differ"));
      RETURN_IF_ERROR(Check(pairs.insert({e.from, e.to}).second, "a share is listed twice"));
      RETURN_IF_ERROR(Check(e.ciphertext.size() >= kMinSealedBytes &&
                                e.ciphertext.size() <= limits_.max_secagg_blob_bytes,
                            "share ciphertext size is out of range"));
    }
    return Status::Ok();
  }
  Status operator()(const SecAggShares& m) const { return Shares(m.shares); }
  Status operator()(const SecAggSharesRelay& m) const { return Shares(m.shares); }

  Status operator()(const SecAggMasked& m) const {
    RETURN_IF_ERROR(Check(m.num_samples >= 1, "num_samples must be >= 1"));
    RETURN_IF_ERROR(Check(!m.masked.empty() && m.masked.size() % 4 == 0,
                          "masked must be a non-empty whole number of 32-bit words"));
    return TrainMetricsOk(m.metrics);
  }

  Status operator()(const SecAggUnmaskRequest& m) const {
    RETURN_IF_ERROR(
        Check(m.survivors.size() + m.dropped.size() <= limits_.max_secagg_sites, "too many ids"));
    std::set<uint32_t> all;
    for (const auto* list : {&m.survivors, &m.dropped}) {
      for (size_t i = 0; i < list->size(); ++i) {
        RETURN_IF_ERROR(Check((*list)[i] >= 1 && (i == 0 || (*list)[i - 1] < (*list)[i]),
                              "id lists must be sorted, unique and >= 1"));
        RETURN_IF_ERROR(Check(all.insert((*list)[i]).second, "survivors and dropped overlap"));
      }
    }
    RETURN_IF_ERROR(Check(m.signatures.size() <= limits_.max_secagg_sites, "too many signatures"));
    std::set<uint32_t> signers;
    for (const SecAggSignedBy& s : m.signatures) {
      RETURN_IF_ERROR(Check(s.secagg_id >= 1 && signers.insert(s.secagg_id).second,
                            "signers must be >= 1 and unique"));
      RETURN_IF_ERROR(Check(s.signature.size() == 64, "signatures must be 64 bytes"));
    }
    return Check(!m.survivors.empty(), "no survivors");
  }

  Status operator()(const SecAggConsistencyCheck& m) const {
    RETURN_IF_ERROR(Check(m.survivors.size() <= limits_.max_secagg_sites, "too many ids"));
    for (size_t i = 0; i < m.survivors.size(); ++i) {
      RETURN_IF_ERROR(Check(m.survivors[i] >= 1 && (i == 0 || m.survivors[i - 1] < m.survivors[i]),
                            "survivors must be sorted, unique and >= 1"));
    }
    return Check(!m.survivors.empty(), "no survivors");
  }

  Status operator()(const SecAggConsistencySignature& m) const {
    return Check(m.signature.size() == 64, "the signature must be 64 bytes");
  }

  Status operator()(const SecAggUnmaskResponse& m) const {
    RETURN_IF_ERROR(Check(m.shares.size() <= limits_.max_secagg_sites, "too many shares"));
    for (const SecAggRevealedShare& e : m.shares) {
      RETURN_IF_ERROR(Check(e.owner >= 1, "owner must be >= 1"));
      RETURN_IF_ERROR(Check(e.kind == 1 || e.kind == 2, "share kind must be 1 or 2"));
      RETURN_IF_ERROR(Check(e.share.size() >= 12 && (e.share.size() - 4) % 8 == 0 &&
                                e.share.size() <= limits_.max_secagg_blob_bytes,
                            "revealed share size is out of range"));
    }
    return Status::Ok();
  }

 private:
  const DecodeLimits& limits_;
};

}  // namespace

bool IsValidSiteId(std::string_view id) {
  if (id.empty() || id.size() > 128 || id[0] == '.' || id[0] == '-') return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status ValidateMessage(const Message& message, const DecodeLimits& limits) {
  RETURN_IF_ERROR(Check(message.protocol_version == kProtocolVersion,
                        "protocol version " + std::to_string(message.protocol_version) +
                            " is not " + std::to_string(kProtocolVersion)));
  RETURN_IF_ERROR(Check(message.run_id.size() <= kMaxIdBytes, "run_id is longer than 256 bytes"));
  return std::visit(Validator(limits), message.body);
}

}  // namespace fedsmear::wire
