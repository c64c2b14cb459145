// SecAgg+ wire messages as plain C++ values (part of messages.h; include that instead).
//
// What: mirrors of the SecAgg* structs of common/wire/fedsmear.capnp. One SecAgg+ round:
//   coordinator -> site  SecAggSetup          (with the round's TrainTask, or for purpose
//                                              kBnStatistics its EvaluateTask; same task id)
//   site -> coordinator  SecAggKeys           (stage 1, advertise)
//   coordinator -> site  SecAggKeysRelay      (the neighbours' advertised keys)
//   site -> coordinator  SecAggShares         (stage 2, encrypted Shamir shares)
//   coordinator -> site  SecAggSharesRelay    (the shares addressed to the site)
//   site -> coordinator  SecAggMasked         (stage 3, replaces the Update)
//   coordinator -> site  SecAggUnmaskRequest  (stage 4, survivors and dropped sites)
//   site -> coordinator  SecAggUnmaskResponse (revealed shares)
// Byte fields are raw bytes in std::string (keys 32, signatures 64, graph seed 32). Decode checks
// every size and count it can check without round state (key sizes, list lengths up to
// DecodeLimits::max_secagg_sites, ids >= 1, a setup's ids being exactly 1..n, masked data being
// whole 32-bit words); the round logic checks the rest against its SecAggSetup (vector length,
// counts <= n, ids known).
// Thread-safety: values. Ownership: plain data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fedsmear::wire {

// What a session sums (protocol 6): a site masks at most one input per purpose and round.
enum class SecAggPurpose : uint8_t { kTraining = 0, kBnStatistics = 1 };

struct SecAggSite {
  std::string site_id;
  uint32_t secagg_id = 0;
  std::string sign_public_key;  // 32 bytes, Ed25519
  uint32_t vote_weight = 0;     // sign-vote rounds: 1..2^vote_bits-1; else 0
  uint64_t weight = 0;          // min(training-set size, weight_cap), >= 1
};

// coordinator -> site.
struct SecAggSetup {
  uint32_t round = 0;
  uint64_t task_id = 0;
  std::vector<SecAggSite> sites;  // the directory; secagg ids are exactly 1..n
  uint32_t threshold = 0;
  uint32_t neighbours = 0;  // resolved k, 1..n-1
  uint32_t mask_bits = 32;
  std::string graph_seed;  // 32 bytes
  double clip = 0;         // clip of each scaled delta value
  uint64_t total_weight = 0;
  uint64_t vector_length = 0;
  double stat_clip = 0;  // clip of each scaled delta of BN running statistics
  uint32_t vote_bits = 0;  // 0: all words are quantized deltas; else packed sign votes first
  uint64_t weight_cap = 0;  // the coordinator's max_site_samples (models/contribution.h);
                            // kBnStatistics: the calibration images asked for
  SecAggPurpose purpose = SecAggPurpose::kTraining;
  std::string model_sha256;  // 32 bytes: SHA-256 of the session's task's model blob
};

// site -> coordinator, stage 1.
struct SecAggKeys {
  uint32_t round = 0;
  uint64_t task_id = 0;
  std::string c_pk;       // 32 bytes
  std::string s_pk;       // 32 bytes
  std::string signature;  // 64 bytes
};

struct SecAggPeerKeys {
  uint32_t secagg_id = 0;
  std::string c_pk;
  std::string s_pk;
  std::string signature;
};

// coordinator -> site.
struct SecAggKeysRelay {
  uint32_t round = 0;
  uint64_t task_id = 0;
  std::vector<SecAggPeerKeys> keys;
};

struct SecAggShare {
  uint32_t from = 0;
  uint32_t to = 0;
  std::string ciphertext;
};

// site -> coordinator, stage 2.
struct SecAggShares {
  uint32_t round = 0;
  uint64_t task_id = 0;
  std::vector<SecAggShare> shares;
};

// coordinator -> site.
struct SecAggSharesRelay {
  uint32_t round = 0;
  uint64_t task_id = 0;
  std::vector<SecAggShare> shares;
};

// site -> coordinator, stage 3 (instead of an Update).
struct SecAggMasked {
  uint32_t round = 0;
  uint64_t task_id = 0;
  uint64_t num_samples = 0;
  std::string masked;  // little-endian uint32 words
  TrainMetrics metrics;
};

struct SecAggSignedBy {
  uint32_t secagg_id = 0;
  std::string signature;  // 64 bytes, Ed25519 over secagg::ConsistencyPayload
};

// coordinator -> survivors, stage 4 (the survivors' and dropped sites of the receiver's share
// group, with its group's consistency signatures).
struct SecAggUnmaskRequest {
  uint32_t round = 0;
  uint64_t task_id = 0;
  std::vector<uint32_t> survivors;  // sorted, unique
  std::vector<uint32_t> dropped;    // sorted, unique, disjoint from survivors
  std::vector<SecAggSignedBy> signatures = {};  // unique signers
};

// coordinator -> survivors, consistency round (between stages 3 and 4).
struct SecAggConsistencyCheck {
  uint32_t round = 0;
  uint64_t task_id = 0;
  std::vector<uint32_t> survivors;  // sorted, unique: every site that sent a masked input
};

// survivor -> coordinator, consistency round.
struct SecAggConsistencySignature {
  uint32_t round = 0;
  uint64_t task_id = 0;
  std::string signature;  // 64 bytes
};

struct SecAggRevealedShare {
  uint32_t owner = 0;
  uint8_t kind = 1;   // 1: share of b, 2: share of s_sk (secagg::ShareKind)
  std::string share;  // secagg::SerializeShare
};

// survivor -> coordinator, stage 4.
struct SecAggUnmaskResponse {
  uint32_t round = 0;
  uint64_t task_id = 0;
  std::vector<SecAggRevealedShare> shares;
};

}  // namespace fedsmear::wire
