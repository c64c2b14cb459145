// Coordinator-side (server) logic of one SecAgg+ round.
//
// What: collects stage messages, routes what sites need, and in stage 4 rebuilds the self-mask
// seeds b of survivors and the masking keys s_sk of dropped sites from Shamir shares, strips all
// masks and returns the exact sum of the survivors' inputs mod 2^mask_bits. Sequence:
//   AddAdvertisedKeys* -> CloseAdvertiseStage -> (KeysFor per site)
//   AddEncryptedShares* -> CloseShareStage -> (SharesFor per site)
//   AddMaskedInput* -> CloseMaskStage -> UnmaskRequest (the survivor set to sign)
//   AddConsistencySignature* -> (RequestFor per site)
//   AddUnmaskResponse* -> Finish
// Masked inputs are summed on arrival, so memory is one vector regardless of n.
// Failures: too few sites at a stage, or too few shares for a needed secret, give kAborted
// without partial results; signatures that fail give kPermissionDenied; malformed or
// inconsistent shares give kCorrupt (a rebuilt s_sk must match the advertised s_pk).
// Thread-safety: single-threaded. Ownership: plain values (copyable, e.g. to retry a stage).
// Security notes: the server sees only masked vectors, and per secret at most one kind of share
// from honest sites; it learns the sum only. Reconstructed secrets are wiped after use.
#pragma once

#include <map>
#include <set>
#include <vector>

#include "common/status.h"
#include "secagg/config.h"
#include "secagg/messages.h"
#include "secagg/site.h"

namespace fedsmear::secagg {

class Server {
 public:
  static Result<Server> Create(const Config& config, IdentityDirectory directory);

  const Config& config() const { return config_; }
  const NeighbourGraph& graph() const { return graph_; }

  // Stage 1.
  Status AddAdvertisedKeys(const AdvertisedKeys& keys);
  // kAborted unless all n sites advertised (sites accept only complete key sets); then derives
  // the round's graph from all keys (consistency.h).
  Status CloseAdvertiseStage();
  // Advertised keys of every other site (what the site needs for ShareKeys).
  Result<std::vector<AdvertisedKeys>> KeysFor(uint32_t site) const;

  // Stage 2.
  Status AddEncryptedShares(uint32_t from, const std::vector<EncryptedShares>& shares);
  Status CloseShareStage();
  Result<std::vector<EncryptedShares>> SharesFor(uint32_t site) const;

  // Stage 3.
  Status AddMaskedInput(const MaskedInput& input);
  Result<UnmaskRequest> CloseMaskStage();
  // Consistency round: `site`'s Ed25519 signature over ConsistencyPayload(round, survivors);
  // kPermissionDenied when it does not verify.
  Status AddConsistencySignature(uint32_t site, const Signature64& signature);
  // The part of the request `site` needs: survivors and dropped within its share group, and the
  // consistency signatures of its group's members.
  UnmaskRequest RequestFor(uint32_t site) const;

  // Stage 4.
  Status AddUnmaskResponse(const UnmaskResponse& response);
  Result<std::vector<uint32_t>> Finish();

 private:
  enum class Stage { kAdvertise, kShare, kMask, kUnmask, kDone };
  Server() = default;
  Result<std::vector<Share>> SharesOf(uint32_t owner, ShareKind kind) const;

  Config config_;
  NeighbourGraph graph_;
  IdentityDirectory directory_;
  Stage stage_ = Stage::kAdvertise;
  std::map<uint32_t, AdvertisedKeys> advertised_;                 // U1
  std::map<uint32_t, std::vector<EncryptedShares>> shares_from_;  // U2
  std::set<uint32_t> masked_;                                     // U3
  std::vector<uint32_t> sum_;                                     // sum of masked inputs
  UnmaskRequest request_;  // signatures: the consistency round's
  std::map<std::pair<uint32_t, ShareKind>, std::map<uint32_t, Share>> revealed_;  // -> holder
  std::set<uint32_t> responded_;
};

}  // namespace fedsmear::secagg
