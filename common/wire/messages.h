// The fedsmear wire protocol as plain C++ values, and its validated codec.
//
// Each struct mirrors one struct of common/wire/fedsmear.capnp (snake_case fields). A Message is
// the envelope (protocol version, run id) plus one body alternative. Encode() serialises a Message
// as an unpacked Cap'n Proto flat array; Decode() is the only way bytes from the network become a
// Message, and it validates everything before returning: size limit, Cap'n Proto traversal and
// nesting limits, protocol version, union tags and enumerants, list lengths and their consistency,
// and numeric ranges. Decode never throws: kj::Exception from Cap'n Proto becomes kCorrupt.
//
// Status codes from Decode: kResourceExhausted (bigger than DecodeLimits::max_message_bytes),
// kFailedPrecondition (another protocol version), kCorrupt (everything else).
//
// Encode does not validate; ValidateMessage() applies Decode's checks to a value before sending.
// Thread-safety: pure functions on values. Ownership: a Message owns its model bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/train_config.h"
#include "common/status.h"

namespace fedsmear::wire {

// The protocol version both peers must run; its history is in fedsmear.capnp.
inline constexpr uint16_t kProtocolVersion = 7;

struct ModelBlob {
  // The codec registry's name of the encoding: a codec_down (models/packed_model.h) for models,
  // a codec_up (models/codec.h CodecSpecName) for updates; 1-64 bytes, parsed by the receiver.
  std::string codec = "f32";
  std::string data;  // raw bytes; may be tens of MB
};

// site -> coordinator, first message after connecting.
struct Hello {
  std::string site_id;
  std::string software_version;
  std::vector<std::string> class_names;
  std::vector<uint64_t> class_counts;  // empty, or one per class name
  uint64_t num_train = 0;
  uint64_t num_val = 0;
};

// coordinator -> site.
struct Welcome {
  bool accepted = false;
  std::string reason;
  std::string run_id;
  uint32_t heartbeat_ms = 5000;
  std::string plan;       // canonical training plan (common/governance/plan.h); empty: none
  std::string plan_hash;  // SHA-256 of `plan`, lowercase hex
};

// coordinator -> site.
struct TrainTask {
  uint32_t round = 0;
  ModelBlob model;
  std::string arch;
  uint32_t num_classes = 0;
  uint32_t input_size = 0;
  std::vector<std::string> class_names;  // empty, or num_classes names
  TrainConfig train;                     // learning_rate is this round's rate
  int64_t deadline_unix_ms = 0;
  uint64_t task_id = 0;
  // How the site answers. The coordinator always sets them from its config, whose defaults
  // (common/train_config.h) are the only ones: Decode refuses an empty codec_up or latent_start.
  std::string codec_up = kDefaultCodecUp;        // models/codec.h ParseCodecSpec
  FreshLatent latent_start = kDefaultLatentStart;  // sign1 downlinks
  double latent_epsilon = kDefaultLatentEpsilon;   // > 0 (sign1 downlinks)
  FreshLatent latent_flip = kDefaultLatentFlip;    // sign1 downlinks
  bool secure_aggregation = false;                 // answer through SecAgg+
  // Pooled class distribution of the sites' training sets, the target of the logit adjustment
  // (data/split.h LogitAdjustmentOffsets); empty = balanced. Validated: num_classes entries,
  // each finite and >= 0, summing to 1 within 1e-6.
  std::vector<double> class_prior;
};

struct TrainMetrics {
  double train_loss = 0;
  double train_accuracy = 0;
  double val_loss = 0;  // NaN: not measured
  double val_accuracy = 0;
  uint64_t num_val = 0;
  double train_seconds = 0;
};

// site -> coordinator.
struct Update {
  uint32_t round = 0;
  uint64_t task_id = 0;
  uint64_t num_samples = 0;
  ModelBlob update;
  TrainMetrics metrics;
};

// coordinator -> site.
struct EvaluateTask {
  uint32_t round = 0;
  uint64_t task_id = 0;
  ModelBlob model;
  std::string arch;
  uint32_t num_classes = 0;
  uint32_t input_size = 0;
  std::vector<std::string> class_names;
  int64_t deadline_unix_ms = 0;
  uint32_t bn_calibration_images = 0;  // > 0: return BN statistics of the site's images
  uint32_t bn_calibration_batch = 0;
  bool secure_aggregation = false;  // statistics into the SecAgg+ session of task_id, never plain
};

// site -> coordinator.
struct EvaluateResult {
  uint32_t round = 0;
  uint64_t task_id = 0;
  double loss = 0;
  double accuracy = 0;
  uint64_t num_samples = 0;
  ModelBlob bn_statistics;  // codec "f32", BN running statistics only; empty when not asked
  uint64_t bn_images = 0;
};

struct Heartbeat {
  uint64_t sequence = 0;
  int64_t unix_ms = 0;
  std::string pending_plan;  // plan hash awaiting this site's approval; "" when none
};

enum class ErrorCode : uint16_t {
  kInternal = 0,
  kBadRequest = 1,
  kProtocolVersion = 2,
  kUnknownSite = 3,
  kNotAccepted = 4,
  kResourceExhausted = 5,
  kUnavailable = 6,
  kWrongRun = 7,
};
const char* ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

// site -> coordinator: the site policy refuses a task.
struct Refusal {
  uint64_t task_id = 0;
  uint32_t round = 0;
  std::string reason;
};

// coordinator -> site: the run is over.
struct Goodbye {
  std::string reason;
};

}  // namespace fedsmear::wire

#include "common/wire/secagg_messages.h"  // NOLINT(build/include_order): needs TrainMetrics

namespace fedsmear::wire {

using Body =
    std::variant<Hello, Welcome, TrainTask, Update, EvaluateTask, EvaluateResult, Heartbeat, Error,
                 Refusal, Goodbye, SecAggSetup, SecAggKeys, SecAggKeysRelay, SecAggShares,
                 SecAggSharesRelay, SecAggMasked, SecAggUnmaskRequest, SecAggUnmaskResponse,
                 SecAggConsistencyCheck, SecAggConsistencySignature>;

struct Message {
  uint16_t protocol_version = kProtocolVersion;
  std::string run_id;  // empty before the Welcome
  Body body;
};

// Name of the body alternative ("hello", "trainTask", ...), for logs.
const char* BodyName(const Body& body);

struct DecodeLimits {
  uint64_t max_message_bytes = uint64_t{256} << 20;  // 256 MiB
  uint32_t max_classes = 10000;                      // class names, counts, per-class lists
  uint32_t max_text_bytes = 64 * 1024;               // any single Text field
  uint32_t nesting_limit = 16;                       // Cap'n Proto pointer depth
  uint32_t max_secagg_sites = 10000;                 // entries of any SecAgg list
  uint32_t max_secagg_blob_bytes = 4096;             // one share ciphertext or revealed share
  uint32_t max_plan_bytes = 64 * 1024;               // Welcome.plan
};

// Serialises `message` (unpacked flat array, a multiple of 8 bytes).
std::string Encode(const Message& message);

// Parses and validates bytes received from a peer. `bytes` may be unaligned.
Result<Message> Decode(std::string_view bytes, const DecodeLimits& limits = {});

// The semantic checks Decode applies after parsing (lists, ranges, texts).
Status ValidateMessage(const Message& message, const DecodeLimits& limits = {});

// Site ids: 1-128 characters from [A-Za-z0-9._-], not starting with '.' or '-'.
bool IsValidSiteId(std::string_view id);

}  // namespace fedsmear::wire
