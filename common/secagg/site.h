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
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "common/secagg/config.h"
#include "common/secagg/crypto.h"
#include "common/secagg/messages.h"
#include "common/secagg/shamir.h"
#include "common/status.h"

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
  const NeighbourGraph& graph() const { return graph_; }

  // Stage 1: fresh (c, s) X25519 pairs, signed.
  Result<AdvertisedKeys> AdvertiseKeys();
  // Stage 2: verifies neighbours' keys, Shamir-shares b and s_sk t-of-(k+1) over the share group
  // and seals one pair of shares per advertised neighbour. Entries of non-neighbours are ignored.
  Result<std::vector<EncryptedShares>> ShareKeys(const std::vector<AdvertisedKeys>& advertised);
  // Stage 3: decrypts and stores the shares addressed to this site, then masks `input` (each
  // word < 2^mask_bits, length vector_length) with PRG(b) and one pairwise mask per neighbour
  // that shared keys.
  Result<MaskedInput> MaskInput(const std::vector<EncryptedShares>& received,
                                const std::vector<uint32_t>& input);
  // Stage 4: b shares for surviving peers, s_sk shares for dropped peers (only peers whose
  // shares this site holds). kPermissionDenied if this would reveal both kinds for one peer.
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
};

}  // namespace fedsmear::secagg
