// Site-side (client) logic of one SecAgg+ round.
//
// What: a state machine over stages 1-4. The caller (site runtime) moves the returned messages
// over its transport and feeds in what the coordinator relays:
//   AdvertiseKeys()            -> AdvertisedKeys            (stage 1)
//   ShareKeys(all advertised)  -> EncryptedShares per peer  (stage 2)
//   MaskInput(received, x)     -> MaskedInput               (stage 3)
//   Unmask(request)            -> UnmaskResponse            (stage 4, may be retried)
// Calls out of order return kFailedPrecondition.
// Thread-safety: one Site per round, driven from one thread. Ownership: owns its long-term
// identity key, its round keys and the shares it holds; all secrets are wiped on destruction.
// Security notes: peers' advertised keys are accepted only with a valid Ed25519 signature from
// the identity directory; share ciphertexts are authenticated (AES-GCM, ids and round in AAD).
// For every peer the site reveals at most one kind of share for the whole round: once it has
// revealed a peer's b share it refuses to reveal that peer's s_sk share and vice versa (and it
// never reveals anything for itself as dropped). It also refuses to unmask when fewer than t
// sites are reported as survivors.
// Against a malicious coordinator (docs/security.md) the site also refuses partial views: a key
// relay that omits any site (ShareKeys), a share relay that omits a peer it shared
// with (MaskInput), and unmask requests naming ids outside 1..n, outside its share group or
// peers whose shares it does not hold. So every site masks with its whole neighbourhood and a
// dropout before masking ends the round (the coordinator retries without the site). Before it
// unmasks, every survivor signs the survivor set and checks t signatures of its share group over
// the same set (the consistency round of Bonawitz et al. 2017).
#pragma once

#include <map>
#include <memory>
#include <utility>
#include <optional>
#include <vector>

#include "common/status.h"
#include "secagg/config.h"
#include "secagg/crypto.h"
#include "secagg/messages.h"
#include "secagg/shamir.h"
#include "secagg/verify_memo.h"

namespace fedsmear::secagg {

// Long-term Ed25519 public keys of all enrolled sites, by site id.
using IdentityDirectory = std::map<uint32_t, PublicKey32>;

class Site {
 public:
  static Result<Site> Create(const Config& config, uint32_t site_id, Ed25519KeyPair identity,
                             IdentityDirectory directory);

  Site(Site&&) noexcept;
  Site& operator=(Site&&) noexcept;
  ~Site();

  uint32_t id() const { return id_; }
  // Sites of one process may share their Ed25519 verifications (secagg/verify_memo.h).
  void set_verify_memo(std::shared_ptr<VerifyMemo> memo) { memo_ = std::move(memo); }
  const NeighbourGraph& graph() const { return graph_; }

  // Stage 1: fresh (c, s) X25519 pairs, signed.
  Result<AdvertisedKeys> AdvertiseKeys();
  // Stage 2: verifies every site's keys (all n must be relayed), derives the round's graph from
  // them (consistency.h), Shamir-shares b and s_sk t-of-(k+1) over the share group and seals one
  // pair of shares per neighbour. graph() is the derived graph from then on.
  Result<std::vector<EncryptedShares>> ShareKeys(const std::vector<AdvertisedKeys>& advertised);
  // Stage 3: decrypts and stores the shares addressed to this site, then masks `input` (each
  // word < 2^mask_bits, length vector_length) with PRG(b) and one pairwise mask per neighbour
  // that shared keys.
  Result<MaskedInput> MaskInput(const std::vector<EncryptedShares>& received,
                                const std::vector<uint32_t>& input);
  // Consistency round: signs the survivor set U3 (sorted ids of every site that sent a masked
  // input; this site among them, at least t of its share group). A site signs one set per
  // round: asked to sign another, it refuses (kPermissionDenied), so honest sites never answer
  // different survivor sets.
  Result<Signature64> SignSurvivors(const std::vector<uint32_t>& survivors);
  // Stage 4: b shares for surviving peers, s_sk shares for dropped peers. Only after
  // SignSurvivors, and only when `request` carries valid signatures over the same set from at
  // least t members of this site's share group, and its survivors/dropped are exactly that set's
  // part of the share group (Server::RequestFor). kPermissionDenied if this would reveal both
  // kinds for one peer, or names a site outside the group or not held.
  Result<UnmaskResponse> Unmask(const UnmaskRequest& request);

 private:
  enum class Stage { kCreated, kAdvertised, kShared, kMasked };
  struct Held {  // shares this site holds for one owner
    Share b_share;
    Share s_share;
  };
  struct State;  // round secrets, behind a pointer so moves never copy key material

  Site() = default;

  Config config_;
  uint32_t id_ = 0;
  NeighbourGraph graph_;
  IdentityDirectory directory_;
  Stage stage_ = Stage::kCreated;
  std::unique_ptr<State> state_;
  std::shared_ptr<VerifyMemo> memo_;  // none in a deployment
};

}  // namespace fedsmear::secagg
