// Cap'n Proto flat array -> Message. Structural checks (sizes, tags, enumerants, list lengths)
// happen while reading; semantic checks are ValidateMessage() in validate.cc.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <exception>

#include "common/wire/fedsmear.capnp.h"
#include "common/wire/messages.h"
#include "common/wire/wire_settings.h"

namespace fedsmear::wire {
namespace {

namespace p = ::fedsmear::wire::proto;

constexpr uint16_t kMaxErrorCode = static_cast<uint16_t>(ErrorCode::kWrongRun);

// Reads one message; every Read* returns a non-OK Status instead of producing oversized values.
class Reader {
 public:
  explicit Reader(const DecodeLimits& limits) : limits_(limits) {}

  Status Text(capnp::Text::Reader in, const char* field, std::string* out) const {
    if (in.size() > limits_.max_text_bytes) {
      return Corrupt(std::string(field) + " is " + std::to_string(in.size()) +
                     " bytes (limit " + std::to_string(limits_.max_text_bytes) + ")");
    }
    out->assign(in.cStr(), in.size());
    return Status::Ok();
  }

  // A typed choice sent as its name; `absent` is what an empty name means (nullptr: refused).
  template <class E>
  Status Choice(capnp::Text::Reader in, const char* field, const char* absent, E* out) const {
    std::string name;
    RETURN_IF_ERROR(Text(in, field, &name));
    if (name.empty() && absent != nullptr) name = absent;
    const auto parsed = settings::ParseEnum<E>(name);
    if (!parsed) {
      return Corrupt(std::string(field) + " '" + name + "' is not one of " +
                     settings::EnumList<E>());
    }
    *out = *parsed;
    return Status::Ok();
  }

  Status ListLength(size_t size, uint32_t limit, const char* field) const {
    if (size > limit) {
      return Corrupt(std::string(field) + " has " + std::to_string(size) + " entries (limit " +
                     std::to_string(limit) + ")");
    }
    return Status::Ok();
  }

  Status Strings(capnp::List<capnp::Text>::Reader in, const char* field,
                 std::vector<std::string>* out) const {
    RETURN_IF_ERROR(ListLength(in.size(), limits_.max_classes, field));
    out->resize(in.size());
    for (unsigned i = 0; i < in.size(); ++i) RETURN_IF_ERROR(Text(in[i], field, &(*out)[i]));
    return Status::Ok();
  }

  // A per-class list of numbers (counts, shares): at most max_classes entries.
  template <typename T>
  Status Numbers(typename capnp::List<T>::Reader in, const char* field,
                 std::vector<T>* out) const {
    RETURN_IF_ERROR(ListLength(in.size(), limits_.max_classes, field));
    out->resize(in.size());
    for (unsigned i = 0; i < in.size(); ++i) (*out)[i] = in[i];
    return Status::Ok();
  }

  Status Blob(p::ModelBlob::Reader in, ModelBlob* out) const {
    RETURN_IF_ERROR(Text(in.getCodec(), "codec", &out->codec));
    auto data = in.getData();
    out->data.assign(reinterpret_cast<const char*>(data.begin()), data.size());
    return Status::Ok();
  }

  Status Train(p::TrainConfig::Reader in, TrainConfig* out) const {
    WireIn reader(capnp::toDynamic(in), "train.", limits_.max_text_bytes);
    Describe(*out, reader);
    return reader.status();
  }

  Status Read(p::Hello::Reader in, Hello* out) const {
    RETURN_IF_ERROR(Text(in.getSiteId(), "site_id", &out->site_id));
    RETURN_IF_ERROR(Text(in.getSoftwareVersion(), "software_version", &out->software_version));
    RETURN_IF_ERROR(Strings(in.getClassNames(), "class_names", &out->class_names));
    RETURN_IF_ERROR(Numbers<uint64_t>(in.getClassCounts(), "class_counts", &out->class_counts));
    out->num_train = in.getNumTrain();
    out->num_val = in.getNumVal();
    return Status::Ok();
  }

  Status Read(p::Welcome::Reader in, Welcome* out) const {
    out->accepted = in.getAccepted();
    RETURN_IF_ERROR(Text(in.getReason(), "reason", &out->reason));
    RETURN_IF_ERROR(Text(in.getRunId(), "run_id", &out->run_id));
    out->heartbeat_ms = in.getHeartbeatMs();
    RETURN_IF_ERROR(Bytes(in.getPlan(), limits_.max_plan_bytes, "plan", &out->plan));
    return Text(in.getPlanHash(), "plan_hash", &out->plan_hash);
  }

  Status Read(p::TrainTask::Reader in, TrainTask* out) const {
    out->round = in.getRound();
    RETURN_IF_ERROR(Blob(in.getModel(), &out->model));
    RETURN_IF_ERROR(Text(in.getArch(), "arch", &out->arch));
    out->num_classes = in.getNumClasses();
    out->input_size = in.getInputSize();
    RETURN_IF_ERROR(Strings(in.getClassNames(), "class_names", &out->class_names));
    RETURN_IF_ERROR(Train(in.getTrain(), &out->train));
    out->deadline_unix_ms = in.getDeadlineUnixMs();
    out->task_id = in.getTaskId();
    RETURN_IF_ERROR(Text(in.getCodecUp(), "codec_up", &out->codec_up));
    RETURN_IF_ERROR(Choice(in.getLatentStart(), "latent_start", nullptr, &out->latent_start));
    out->latent_epsilon = in.getLatentEpsilon();
    // Older coordinators send no latent_flip: epsilon.
    RETURN_IF_ERROR(Choice(in.getLatentFlip(), "latent_flip", "epsilon", &out->latent_flip));
    out->secure_aggregation = in.getSecureAggregation();
    return Numbers<double>(in.getClassPrior(), "class_prior", &out->class_prior);
  }

  Status Read(p::Update::Reader in, Update* out) const {
    out->round = in.getRound();
    out->task_id = in.getTaskId();
    out->num_samples = in.getNumSamples();
    RETURN_IF_ERROR(Blob(in.getUpdate(), &out->update));
    return Metrics(in.getMetrics(), &out->metrics);
  }

  Status Read(p::EvaluateTask::Reader in, EvaluateTask* out) const {
    out->round = in.getRound();
    out->task_id = in.getTaskId();
    RETURN_IF_ERROR(Blob(in.getModel(), &out->model));
    RETURN_IF_ERROR(Text(in.getArch(), "arch", &out->arch));
    out->num_classes = in.getNumClasses();
    out->input_size = in.getInputSize();
    RETURN_IF_ERROR(Strings(in.getClassNames(), "class_names", &out->class_names));
    out->deadline_unix_ms = in.getDeadlineUnixMs();
    out->bn_calibration_images = in.getBnCalibrationImages();
    out->bn_calibration_batch = in.getBnCalibrationBatch();
    out->secure_aggregation = in.getSecureAggregation();
    return Status::Ok();
  }

  Status Read(p::EvaluateResult::Reader in, EvaluateResult* out) const {
    out->round = in.getRound();
    out->task_id = in.getTaskId();
    out->loss = in.getLoss();
    out->accuracy = in.getAccuracy();
    out->num_samples = in.getNumSamples();
    if (in.hasBnStatistics()) RETURN_IF_ERROR(Blob(in.getBnStatistics(), &out->bn_statistics));
    out->bn_images = in.getBnImages();
    return Status::Ok();
  }

  Status Read(p::Heartbeat::Reader in, Heartbeat* out) const {
    out->sequence = in.getSequence();
    out->unix_ms = in.getUnixMs();
    return Text(in.getPendingPlan(), "pending_plan", &out->pending_plan);
  }

  Status Read(p::Error::Reader in, Error* out) const {
    const auto code = static_cast<uint16_t>(in.getCode());
    if (code > kMaxErrorCode) return Corrupt("unknown error code " + std::to_string(code));
    out->code = static_cast<ErrorCode>(code);
    return Text(in.getMessage(), "message", &out->message);
  }

  Status Read(p::Refusal::Reader in, Refusal* out) const {
    out->task_id = in.getTaskId();
    out->round = in.getRound();
    return Text(in.getReason(), "reason", &out->reason);
  }

  Status Read(p::Goodbye::Reader in, Goodbye* out) const {
    return Text(in.getReason(), "reason", &out->reason);
  }

  Status Bytes(capnp::Data::Reader in, size_t max, const char* field, std::string* out) const {
    if (in.size() > max) {
      return Corrupt(std::string(field) + " is " + std::to_string(in.size()) + " bytes (limit " +
                     std::to_string(max) + ")");
    }
    out->assign(reinterpret_cast<const char*>(in.begin()), in.size());
    return Status::Ok();
  }

  Status Metrics(p::TrainMetrics::Reader m, TrainMetrics* out) const {
    out->train_loss = m.getTrainLoss();
    out->train_accuracy = m.getTrainAccuracy();
    out->val_loss = m.getValLoss();
    out->val_accuracy = m.getValAccuracy();
    out->num_val = m.getNumVal();
    out->train_seconds = m.getTrainSeconds();
    return Status::Ok();
  }

  Status Read(p::SecAggSetup::Reader in, SecAggSetup* out) const {
    out->round = in.getRound();
    out->task_id = in.getTaskId();
    auto sites = in.getSites();
    RETURN_IF_ERROR(ListLength(sites.size(), limits_.max_secagg_sites, "sites"));
    out->sites.resize(sites.size());
    for (unsigned i = 0; i < sites.size(); ++i) {
      SecAggSite& e = out->sites[i];
      RETURN_IF_ERROR(Text(sites[i].getSiteId(), "sites.site_id", &e.site_id));
      e.secagg_id = sites[i].getSecaggId();
      RETURN_IF_ERROR(
          Bytes(sites[i].getSignPublicKey(), 32, "sign_public_key", &e.sign_public_key));
      e.vote_weight = sites[i].getVoteWeight();
      e.weight = sites[i].getWeight();
    }
    out->threshold = in.getThreshold();
    out->neighbours = in.getNeighbours();
    out->mask_bits = in.getMaskBits();
    RETURN_IF_ERROR(Bytes(in.getGraphSeed(), 32, "graph_seed", &out->graph_seed));
    out->clip = in.getClip();
    out->total_weight = in.getTotalWeight();
    out->vector_length = in.getVectorLength();
    out->stat_clip = in.getStatClip();
    out->vote_bits = in.getVoteBits();
    out->weight_cap = in.getWeightCap();
    switch (in.getPurpose()) {
      case p::SecAggPurpose::TRAINING: out->purpose = SecAggPurpose::kTraining; break;
      case p::SecAggPurpose::BN_STATISTICS: out->purpose = SecAggPurpose::kBnStatistics; break;
      default: return Corrupt("unknown secure aggregation purpose");
    }
    RETURN_IF_ERROR(Bytes(in.getModelSha256(), 32, "model_sha256", &out->model_sha256));
    return Status::Ok();
  }

  Status Read(p::SecAggKeys::Reader in, SecAggKeys* out) const {
    out->round = in.getRound();
    out->task_id = in.getTaskId();
    RETURN_IF_ERROR(Bytes(in.getCPk(), 32, "c_pk", &out->c_pk));
    RETURN_IF_ERROR(Bytes(in.getSPk(), 32, "s_pk", &out->s_pk));
    return Bytes(in.getSignature(), 64, "signature", &out->signature);
  }

  Status Read(p::SecAggKeysRelay::Reader in, SecAggKeysRelay* out) const {
    out->round = in.getRound();
    out->task_id = in.getTaskId();
    auto keys = in.getKeys();
    RETURN_IF_ERROR(ListLength(keys.size(), limits_.max_secagg_sites, "keys"));
    out->keys.resize(keys.size());
    for (unsigned i = 0; i < keys.size(); ++i) {
      SecAggPeerKeys& k = out->keys[i];
      k.secagg_id = keys[i].getSecaggId();
      RETURN_IF_ERROR(Bytes(keys[i].getCPk(), 32, "c_pk", &k.c_pk));
      RETURN_IF_ERROR(Bytes(keys[i].getSPk(), 32, "s_pk", &k.s_pk));
      RETURN_IF_ERROR(Bytes(keys[i].getSignature(), 64, "signature", &k.signature));
    }
    return Status::Ok();
  }

  Status Shares(capnp::List<p::SecAggShare>::Reader in, std::vector<SecAggShare>* out) const {
    RETURN_IF_ERROR(ListLength(in.size(), limits_.max_secagg_sites, "shares"));
    out->resize(in.size());
    for (unsigned i = 0; i < in.size(); ++i) {
      (*out)[i].from = in[i].getFrom();
      (*out)[i].to = in[i].getTo();
      RETURN_IF_ERROR(Bytes(in[i].getCiphertext(), limits_.max_secagg_blob_bytes, "ciphertext",
                            &(*out)[i].ciphertext));
    }
    return Status::Ok();
  }

  Status Read(p::SecAggShares::Reader in, SecAggShares* out) const {
    out->round = in.getRound();
    out->task_id = in.getTaskId();
    return Shares(in.getShares(), &out->shares);
  }

  Status Read(p::SecAggSharesRelay::Reader in, SecAggSharesRelay* out) const {
    out->round = in.getRound();
    out->task_id = in.getTaskId();
    return Shares(in.getShares(), &out->shares);
  }

  Status Read(p::SecAggMasked::Reader in, SecAggMasked* out) const {
    out->round = in.getRound();
    out->task_id = in.getTaskId();
    out->num_samples = in.getNumSamples();
    RETURN_IF_ERROR(Bytes(in.getMasked(), limits_.max_message_bytes, "masked", &out->masked));
    return Metrics(in.getMetrics(), &out->metrics);
  }

  Status Ids(capnp::List<uint32_t>::Reader in, const char* field,
             std::vector<uint32_t>* out) const {
    RETURN_IF_ERROR(ListLength(in.size(), limits_.max_secagg_sites, field));
    out->resize(in.size());
    for (unsigned i = 0; i < in.size(); ++i) (*out)[i] = in[i];
    return Status::Ok();
  }

  Status Read(p::SecAggUnmaskRequest::Reader in, SecAggUnmaskRequest* out) const {
    out->round = in.getRound();
    out->task_id = in.getTaskId();
    RETURN_IF_ERROR(Ids(in.getSurvivors(), "survivors", &out->survivors));
    RETURN_IF_ERROR(Ids(in.getDropped(), "dropped", &out->dropped));
    auto list = in.getSignatures();
    RETURN_IF_ERROR(ListLength(list.size(), limits_.max_secagg_sites, "signatures"));
    out->signatures.resize(list.size());
    for (unsigned i = 0; i < list.size(); ++i) {
      out->signatures[i].secagg_id = list[i].getSecaggId();
      RETURN_IF_ERROR(Bytes(list[i].getSignature(), 64, "signature", &out->signatures[i].signature));
    }
    return Status::Ok();
  }

  Status Read(p::SecAggConsistencyCheck::Reader in, SecAggConsistencyCheck* out) const {
    out->round = in.getRound();
    out->task_id = in.getTaskId();
    return Ids(in.getSurvivors(), "survivors", &out->survivors);
  }

  Status Read(p::SecAggConsistencySignature::Reader in, SecAggConsistencySignature* out) const {
    out->round = in.getRound();
    out->task_id = in.getTaskId();
    return Bytes(in.getSignature(), 64, "signature", &out->signature);
  }

  Status Read(p::SecAggUnmaskResponse::Reader in, SecAggUnmaskResponse* out) const {
    out->round = in.getRound();
    out->task_id = in.getTaskId();
    auto list = in.getShares();
    RETURN_IF_ERROR(ListLength(list.size(), limits_.max_secagg_sites, "shares"));
    out->shares.resize(list.size());
    for (unsigned i = 0; i < list.size(); ++i) {
      out->shares[i].owner = list[i].getOwner();
      out->shares[i].kind = list[i].getKind();
      RETURN_IF_ERROR(
          Bytes(list[i].getShare(), limits_.max_secagg_blob_bytes, "share", &out->shares[i].share));
    }
    return Status::Ok();
  }

  template <typename T, typename CapnpReader>
  Status ReadBody(CapnpReader in, Body* body) const {
    T value;
    RETURN_IF_ERROR(Read(in, &value));
    *body = std::move(value);
    return Status::Ok();
  }

  Status Envelope(p::Envelope::Reader env, Message* out) const {
    const uint16_t version = env.getProtocolVersion();
    if (version != kProtocolVersion) {
      return FailedPrecondition("peer speaks protocol version " + std::to_string(version) +
                                ", this build speaks " + std::to_string(kProtocolVersion));
    }
    out->protocol_version = version;
    RETURN_IF_ERROR(Text(env.getRunId(), "run_id", &out->run_id));
    auto b = env.getBody();
    using W = p::Envelope::Body::Which;
    switch (b.which()) {
      case W::HELLO: return ReadBody<Hello>(b.getHello(), &out->body);
      case W::WELCOME: return ReadBody<Welcome>(b.getWelcome(), &out->body);
      case W::TRAIN_TASK: return ReadBody<TrainTask>(b.getTrainTask(), &out->body);
      case W::UPDATE: return ReadBody<Update>(b.getUpdate(), &out->body);
      case W::EVALUATE_TASK: return ReadBody<EvaluateTask>(b.getEvaluateTask(), &out->body);
      case W::EVALUATE_RESULT:
        return ReadBody<EvaluateResult>(b.getEvaluateResult(), &out->body);
      case W::HEARTBEAT: return ReadBody<Heartbeat>(b.getHeartbeat(), &out->body);
      case W::ERROR: return ReadBody<Error>(b.getError(), &out->body);
      case W::REFUSAL: return ReadBody<Refusal>(b.getRefusal(), &out->body);
      case W::GOODBYE: return ReadBody<Goodbye>(b.getGoodbye(), &out->body);
      case W::SECAGG_SETUP:
        return ReadBody<SecAggSetup>(b.getSecaggSetup(), &out->body);
      case W::SECAGG_KEYS:
        return ReadBody<SecAggKeys>(b.getSecaggKeys(), &out->body);
      case W::SECAGG_KEYS_RELAY:
        return ReadBody<SecAggKeysRelay>(b.getSecaggKeysRelay(), &out->body);
      case W::SECAGG_SHARES:
        return ReadBody<SecAggShares>(b.getSecaggShares(), &out->body);
      case W::SECAGG_SHARES_RELAY:
        return ReadBody<SecAggSharesRelay>(b.getSecaggSharesRelay(), &out->body);
      case W::SECAGG_MASKED:
        return ReadBody<SecAggMasked>(b.getSecaggMasked(), &out->body);
      case W::SECAGG_UNMASK_REQUEST:
        return ReadBody<SecAggUnmaskRequest>(b.getSecaggUnmaskRequest(), &out->body);
      case W::SECAGG_UNMASK_RESPONSE:
        return ReadBody<SecAggUnmaskResponse>(b.getSecaggUnmaskResponse(), &out->body);
      case W::SECAGG_CONSISTENCY_CHECK:
        return ReadBody<SecAggConsistencyCheck>(b.getSecaggConsistencyCheck(), &out->body);
      case W::SECAGG_CONSISTENCY_SIGNATURE:
        return ReadBody<SecAggConsistencySignature>(b.getSecaggConsistencySignature(),
                                                    &out->body);
    }
    return Corrupt("unknown message type " + std::to_string(static_cast<unsigned>(b.which())));
  }

 private:
  const DecodeLimits& limits_;
};

}  // namespace

Result<Message> Decode(std::string_view bytes, const DecodeLimits& limits) {
  if (bytes.size() > limits.max_message_bytes) {
    return ResourceExhausted("message of " + std::to_string(bytes.size()) +
                             " bytes exceeds the limit of " +
                             std::to_string(limits.max_message_bytes));
  }
  constexpr size_t kWord = sizeof(capnp::word);
  if (bytes.size() < kWord || bytes.size() % kWord != 0) {
    return Corrupt("message of " + std::to_string(bytes.size()) +
                   " bytes is not a whole number of 8-byte words");
  }
  const size_t num_words = bytes.size() / kWord;

  // Cap'n Proto reads words in place; network buffers need not be 8-byte aligned.
  kj::Array<capnp::word> copy;
  kj::ArrayPtr<const capnp::word> words;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(bytes.data()), num_words);
  } else {
    copy = kj::heapArray<capnp::word>(num_words);
    std::memcpy(copy.begin(), bytes.data(), bytes.size());
    words = kj::arrayPtr(static_cast<const capnp::word*>(copy.begin()), num_words);
  }

  capnp::ReaderOptions options;
  // Reading each object about once stays far below 2x the size; pointer-amplification attacks
  // (many pointers to one large blob) hit the limit.
  options.traversalLimitInWords = num_words * 2 + 64;
  options.nestingLimit = static_cast<int>(limits.nesting_limit);

  Message out;
  try {
    capnp::FlatArrayMessageReader reader(words, options);
    if (reader.getEnd() != words.end()) {
      return Corrupt("message has " +
                     std::to_string((words.end() - reader.getEnd()) * kWord) + " trailing bytes");
    }
    Reader r(limits);
    RETURN_IF_ERROR(r.Envelope(reader.getRoot<p::Envelope>(), &out));
  } catch (const kj::Exception& e) {
    return Corrupt(std::string("malformed message: ") + e.getDescription().cStr());
  } catch (const std::exception& e) {
    return Corrupt(std::string("malformed message: ") + e.what());
  }
  if (Status st = ValidateMessage(out, limits); !st.ok()) {
    return Corrupt(std::string("invalid ") + BodyName(out.body) + ": " + st.message());
  }
  return out;
}

}  // namespace fedsmear::wire
