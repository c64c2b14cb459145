// Message -> Cap'n Proto flat array, plus the small name tables of messages.h.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/io.h>

#include <cstring>
#include <type_traits>

#include "common/wire/fedsmear.capnp.h"
#include "common/wire/messages.h"
#include "common/wire/wire_settings.h"

namespace fedsmear::wire {
namespace {

namespace p = ::fedsmear::wire::proto;

capnp::Text::Reader AsText(const std::string& s) { return capnp::Text::Reader(s.data(), s.size()); }

void SetStrings(capnp::List<capnp::Text>::Builder out, const std::vector<std::string>& in) {
  for (size_t i = 0; i < in.size(); ++i) out.set(static_cast<unsigned>(i), AsText(in[i]));
}

template <typename ListBuilder, typename T>
void SetNumbers(ListBuilder out, const std::vector<T>& in) {
  for (size_t i = 0; i < in.size(); ++i) out.set(static_cast<unsigned>(i), in[i]);
}

void SetBlob(p::ModelBlob::Builder out, const ModelBlob& in) {
  out.setCodec(AsText(in.codec));
  auto data = out.initData(static_cast<unsigned>(in.data.size()));
  if (!in.data.empty()) std::memcpy(data.begin(), in.data.data(), in.data.size());
}

void SetMetrics(p::TrainMetrics::Builder x, const TrainMetrics& m) {
  x.setTrainLoss(m.train_loss);
  x.setTrainAccuracy(m.train_accuracy);
  x.setValLoss(m.val_loss);
  x.setValAccuracy(m.val_accuracy);
  x.setNumVal(m.num_val);
  x.setTrainSeconds(m.train_seconds);
}

void SetTrainConfig(p::TrainConfig::Builder out, const TrainConfig& in) {
  WireOut writer(capnp::toDynamic(out));
  Describe(in, writer);
}

void Build(p::Envelope::Body::Builder b, const Hello& m) {
  auto o = b.initHello();
  o.setSiteId(AsText(m.site_id));
  o.setSoftwareVersion(AsText(m.software_version));
  SetStrings(o.initClassNames(static_cast<unsigned>(m.class_names.size())), m.class_names);
  SetNumbers(o.initClassCounts(static_cast<unsigned>(m.class_counts.size())), m.class_counts);
  o.setNumTrain(m.num_train);
  o.setNumVal(m.num_val);
}

void Build(p::Envelope::Body::Builder b, const Welcome& m) {
  auto o = b.initWelcome();
  o.setAccepted(m.accepted);
  o.setReason(AsText(m.reason));
  o.setRunId(AsText(m.run_id));
  o.setHeartbeatMs(m.heartbeat_ms);
  o.setPlan(capnp::Data::Reader(reinterpret_cast<const uint8_t*>(m.plan.data()), m.plan.size()));
  o.setPlanHash(AsText(m.plan_hash));
}

void Build(p::Envelope::Body::Builder b, const TrainTask& m) {
  auto o = b.initTrainTask();
  o.setRound(m.round);
  SetBlob(o.initModel(), m.model);
  o.setArch(AsText(m.arch));
  o.setNumClasses(m.num_classes);
  o.setInputSize(m.input_size);
  SetStrings(o.initClassNames(static_cast<unsigned>(m.class_names.size())), m.class_names);
  SetTrainConfig(o.initTrain(), m.train);
  o.setDeadlineUnixMs(m.deadline_unix_ms);
  o.setTaskId(m.task_id);
  o.setCodecUp(AsText(m.codec_up));
  o.setLatentStart(settings::NameOf(m.latent_start));
  o.setLatentEpsilon(m.latent_epsilon);
  o.setLatentFlip(settings::NameOf(m.latent_flip));
  o.setSecureAggregation(m.secure_aggregation);
  SetNumbers(o.initClassPrior(static_cast<unsigned>(m.class_prior.size())), m.class_prior);
}

void Build(p::Envelope::Body::Builder b, const Update& m) {
  auto o = b.initUpdate();
  o.setRound(m.round);
  o.setTaskId(m.task_id);
  o.setNumSamples(m.num_samples);
  SetBlob(o.initUpdate(), m.update);
  SetMetrics(o.initMetrics(), m.metrics);
}

void Build(p::Envelope::Body::Builder b, const EvaluateTask& m) {
  auto o = b.initEvaluateTask();
  o.setRound(m.round);
  o.setTaskId(m.task_id);
  SetBlob(o.initModel(), m.model);
  o.setArch(AsText(m.arch));
  o.setNumClasses(m.num_classes);
  o.setInputSize(m.input_size);
  SetStrings(o.initClassNames(static_cast<unsigned>(m.class_names.size())), m.class_names);
  o.setDeadlineUnixMs(m.deadline_unix_ms);
  o.setBnCalibrationImages(m.bn_calibration_images);
  o.setBnCalibrationBatch(m.bn_calibration_batch);
  o.setSecureAggregation(m.secure_aggregation);
}

void Build(p::Envelope::Body::Builder b, const EvaluateResult& m) {
  auto o = b.initEvaluateResult();
  o.setRound(m.round);
  o.setTaskId(m.task_id);
  o.setLoss(m.loss);
  o.setAccuracy(m.accuracy);
  o.setNumSamples(m.num_samples);
  if (!m.bn_statistics.data.empty()) SetBlob(o.initBnStatistics(), m.bn_statistics);
  o.setBnImages(m.bn_images);
}

void Build(p::Envelope::Body::Builder b, const Heartbeat& m) {
  auto o = b.initHeartbeat();
  o.setSequence(m.sequence);
  o.setUnixMs(m.unix_ms);
  o.setPendingPlan(AsText(m.pending_plan));
}

void Build(p::Envelope::Body::Builder b, const Error& m) {
  auto o = b.initError();
  o.setCode(static_cast<p::ErrorCode>(m.code));
  o.setMessage(AsText(m.message));
}

void Build(p::Envelope::Body::Builder b, const Refusal& m) {
  auto o = b.initRefusal();
  o.setTaskId(m.task_id);
  o.setRound(m.round);
  o.setReason(AsText(m.reason));
}

void Build(p::Envelope::Body::Builder b, const Goodbye& m) {
  b.initGoodbye().setReason(AsText(m.reason));
}

template <typename Init>
void PutData(Init init, const std::string& in) {
  auto data = init(static_cast<unsigned>(in.size()));
  if (!in.empty()) std::memcpy(data.begin(), in.data(), in.size());
}

template <typename Builder>
void SetShares(Builder o, const std::vector<SecAggShare>& in) {
  auto list = o.initShares(static_cast<unsigned>(in.size()));
  for (size_t i = 0; i < in.size(); ++i) {
    auto e = list[static_cast<unsigned>(i)];
    e.setFrom(in[i].from);
    e.setTo(in[i].to);
    PutData([&](unsigned n) { return e.initCiphertext(n); }, in[i].ciphertext);
  }
}

void Build(p::Envelope::Body::Builder b, const SecAggSetup& m) {
  auto o = b.initSecaggSetup();
  o.setRound(m.round);
  o.setTaskId(m.task_id);
  auto sites = o.initSites(static_cast<unsigned>(m.sites.size()));
  for (size_t i = 0; i < m.sites.size(); ++i) {
    auto e = sites[static_cast<unsigned>(i)];
    e.setSiteId(AsText(m.sites[i].site_id));
    e.setSecaggId(m.sites[i].secagg_id);
    PutData([&](unsigned n) { return e.initSignPublicKey(n); }, m.sites[i].sign_public_key);
    e.setVoteWeight(m.sites[i].vote_weight);
    e.setWeight(m.sites[i].weight);
  }
  o.setThreshold(m.threshold);
  o.setNeighbours(m.neighbours);
  o.setMaskBits(m.mask_bits);
  PutData([&](unsigned n) { return o.initGraphSeed(n); }, m.graph_seed);
  o.setClip(m.clip);
  o.setTotalWeight(m.total_weight);
  o.setVectorLength(m.vector_length);
  o.setStatClip(m.stat_clip);
  o.setVoteBits(m.vote_bits);
  o.setWeightCap(m.weight_cap);
  o.setPurpose(m.purpose == SecAggPurpose::kBnStatistics ? p::SecAggPurpose::BN_STATISTICS
                                                          : p::SecAggPurpose::TRAINING);
  PutData([&](unsigned n) { return o.initModelSha256(n); }, m.model_sha256);
}

void Build(p::Envelope::Body::Builder b, const SecAggKeys& m) {
  auto o = b.initSecaggKeys();
  o.setRound(m.round);
  o.setTaskId(m.task_id);
  PutData([&](unsigned n) { return o.initCPk(n); }, m.c_pk);
  PutData([&](unsigned n) { return o.initSPk(n); }, m.s_pk);
  PutData([&](unsigned n) { return o.initSignature(n); }, m.signature);
}

void Build(p::Envelope::Body::Builder b, const SecAggKeysRelay& m) {
  auto o = b.initSecaggKeysRelay();
  o.setRound(m.round);
  o.setTaskId(m.task_id);
  auto keys = o.initKeys(static_cast<unsigned>(m.keys.size()));
  for (size_t i = 0; i < m.keys.size(); ++i) {
    auto e = keys[static_cast<unsigned>(i)];
    e.setSecaggId(m.keys[i].secagg_id);
    PutData([&](unsigned n) { return e.initCPk(n); }, m.keys[i].c_pk);
    PutData([&](unsigned n) { return e.initSPk(n); }, m.keys[i].s_pk);
    PutData([&](unsigned n) { return e.initSignature(n); }, m.keys[i].signature);
  }
}

void Build(p::Envelope::Body::Builder b, const SecAggShares& m) {
  auto o = b.initSecaggShares();
  o.setRound(m.round);
  o.setTaskId(m.task_id);
  SetShares(o, m.shares);
}

void Build(p::Envelope::Body::Builder b, const SecAggSharesRelay& m) {
  auto o = b.initSecaggSharesRelay();
  o.setRound(m.round);
  o.setTaskId(m.task_id);
  SetShares(o, m.shares);
}

void Build(p::Envelope::Body::Builder b, const SecAggMasked& m) {
  auto o = b.initSecaggMasked();
  o.setRound(m.round);
  o.setTaskId(m.task_id);
  o.setNumSamples(m.num_samples);
  PutData([&](unsigned n) { return o.initMasked(n); }, m.masked);
  SetMetrics(o.initMetrics(), m.metrics);
}

void Build(p::Envelope::Body::Builder b, const SecAggUnmaskRequest& m) {
  auto o = b.initSecaggUnmaskRequest();
  o.setRound(m.round);
  o.setTaskId(m.task_id);
  auto s = o.initSurvivors(static_cast<unsigned>(m.survivors.size()));
  for (size_t i = 0; i < m.survivors.size(); ++i) s.set(static_cast<unsigned>(i), m.survivors[i]);
  auto d = o.initDropped(static_cast<unsigned>(m.dropped.size()));
  for (size_t i = 0; i < m.dropped.size(); ++i) d.set(static_cast<unsigned>(i), m.dropped[i]);
  auto g = o.initSignatures(static_cast<unsigned>(m.signatures.size()));
  for (size_t i = 0; i < m.signatures.size(); ++i) {
    auto e = g[static_cast<unsigned>(i)];
    e.setSecaggId(m.signatures[i].secagg_id);
    PutData([&](unsigned n) { return e.initSignature(n); }, m.signatures[i].signature);
  }
}

void Build(p::Envelope::Body::Builder b, const SecAggConsistencyCheck& m) {
  auto o = b.initSecaggConsistencyCheck();
  o.setRound(m.round);
  o.setTaskId(m.task_id);
  auto s = o.initSurvivors(static_cast<unsigned>(m.survivors.size()));
  for (size_t i = 0; i < m.survivors.size(); ++i) s.set(static_cast<unsigned>(i), m.survivors[i]);
}

void Build(p::Envelope::Body::Builder b, const SecAggConsistencySignature& m) {
  auto o = b.initSecaggConsistencySignature();
  o.setRound(m.round);
  o.setTaskId(m.task_id);
  PutData([&](unsigned n) { return o.initSignature(n); }, m.signature);
}

void Build(p::Envelope::Body::Builder b, const SecAggUnmaskResponse& m) {
  auto o = b.initSecaggUnmaskResponse();
  o.setRound(m.round);
  o.setTaskId(m.task_id);
  auto list = o.initShares(static_cast<unsigned>(m.shares.size()));
  for (size_t i = 0; i < m.shares.size(); ++i) {
    auto e = list[static_cast<unsigned>(i)];
    e.setOwner(m.shares[i].owner);
    e.setKind(m.shares[i].kind);
    PutData([&](unsigned n) { return e.initShare(n); }, m.shares[i].share);
  }
}

}  // namespace

std::string Encode(const Message& message) {
  capnp::MallocMessageBuilder builder;
  auto env = builder.initRoot<p::Envelope>();
  env.setProtocolVersion(message.protocol_version);
  env.setRunId(AsText(message.run_id));
  std::visit([&](const auto& body) { Build(env.getBody(), body); }, message.body);

  // Serialise straight into the string: one copy of the (possibly large) segments.
  const size_t words = capnp::computeSerializedSizeInWords(builder);
  std::string out(words * sizeof(capnp::word), '\0');
  kj::ArrayOutputStream stream(
      kj::arrayPtr(reinterpret_cast<kj::byte*>(out.data()), out.size()));
  capnp::writeMessage(stream, builder);
  return out;
}

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kBadRequest: return "badRequest";
    case ErrorCode::kProtocolVersion: return "protocolVersion";
    case ErrorCode::kUnknownSite: return "unknownSite";
    case ErrorCode::kNotAccepted: return "notAccepted";
    case ErrorCode::kResourceExhausted: return "resourceExhausted";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kWrongRun: return "wrongRun";
  }
  return "unknown";
}

const char* BodyName(const Body& body) {
  static constexpr const char* kNames[] = {"hello",
                                           "welcome",
                                           "trainTask",
                                           "update",
                                           "evaluateTask",
                                           "evaluateResult",
                                           "heartbeat",
                                           "error",
                                           "refusal",
                                           "goodbye",
                                           "secaggSetup",
                                           "secaggKeys",
                                           "secaggKeysRelay",
                                           "secaggShares",
                                           "secaggSharesRelay",
                                           "secaggMasked",
                                           "secaggUnmaskRequest",
                                           "secaggUnmaskResponse",
                                           "secaggConsistencyCheck",
                                           "secaggConsistencySignature"};
  static_assert(std::size(kNames) == std::variant_size_v<Body>);
  return kNames[body.index()];
}

}  // namespace fedsmear::wire
