#include "secagg/site.h"

#include <algorithm>
#include <set>
#include <string>

#include "secagg/consistency.h"
#include "secagg/prg.h"

namespace fedsmear::secagg {

struct Site::State {
  std::optional<Ed25519KeyPair> identity;
  std::optional<X25519KeyPair> c_pair;       // encryption (share transport)
  std::optional<X25519KeyPair> s_pair;       // masking
  Secret32 b;                                // self-mask seed
  std::map<uint32_t, AdvertisedKeys> peers;  // verified neighbour keys
  std::map<uint32_t, Held> held;             // owner -> shares this site holds (incl. itself)
  std::map<uint32_t, ShareKind> revealed;    // owner -> kind already revealed this round
  std::optional<std::vector<uint32_t>> signed_survivors;  // the one set signed this round
};

Site::Site(Site&&) noexcept = default;
Site& Site::operator=(Site&&) noexcept = default;
Site::~Site() = default;

Result<Site> Site::Create(const Config& config, uint32_t site_id, Ed25519KeyPair identity,
                          IdentityDirectory directory) {
  ASSIGN_OR_RETURN(Config resolved, ResolveConfig(config));
  if (site_id < 1 || site_id > resolved.num_sites) {
    return InvalidArgument("secagg: site id " + std::to_string(site_id) + " not in 1..n");
  }
  ASSIGN_OR_RETURN(NeighbourGraph graph, NeighbourGraph::Build(resolved));
  Site site;
  site.config_ = resolved;
  site.id_ = site_id;
  site.graph_ = std::move(graph);
  site.directory_ = std::move(directory);
  site.state_ = std::make_unique<State>();
  site.state_->identity.emplace(std::move(identity));
  return site;
}

Result<AdvertisedKeys> Site::AdvertiseKeys() {
  if (stage_ != Stage::kCreated) return FailedPrecondition("secagg: keys already advertised");
  ASSIGN_OR_RETURN(X25519KeyPair c, X25519KeyPair::Generate());
  ASSIGN_OR_RETURN(X25519KeyPair s, X25519KeyPair::Generate());
  AdvertisedKeys keys;
  keys.site_id = id_;
  keys.round = config_.round;
  keys.c_pk = c.public_key();
  keys.s_pk = s.public_key();
  ASSIGN_OR_RETURN(keys.signature,
                   state_->identity->Sign(SigningPayload(keys, config_.transcript)));
  state_->c_pair.emplace(std::move(c));
  state_->s_pair.emplace(std::move(s));
  stage_ = Stage::kAdvertised;
  return keys;
}

Result<std::vector<EncryptedShares>> Site::ShareKeys(
    const std::vector<AdvertisedKeys>& advertised) {
  if (stage_ != Stage::kAdvertised) return FailedPrecondition("secagg: ShareKeys out of order");
  State& st = *state_;
  std::set<PublicKey32> seen_keys = {st.c_pair->public_key(), st.s_pair->public_key()};
  // Every site's keys are verified (not only the neighbours'): the graph is derived from all
  // of them (consistency.h), so a relay that omits or alters any site is refused.
  std::map<uint32_t, AdvertisedKeys> all;
  for (const AdvertisedKeys& k : advertised) {
    const std::string who = "site " + std::to_string(k.site_id);
    if (k.site_id == id_) {
      if (k.c_pk != st.c_pair->public_key() || k.s_pk != st.s_pair->public_key()) {
        return PermissionDenied("secagg: coordinator relayed altered keys for this site");
      }
    } else {
      if (k.site_id < 1 || k.site_id > config_.num_sites) {
        return InvalidArgument("secagg: key relay names " + who + ", not in 1..n");
      }
      if (k.round != config_.round)
        return PermissionDenied("secagg: " + who + " keys for wrong round");
      auto dir = directory_.find(k.site_id);
      if (dir == directory_.end()) return PermissionDenied("secagg: " + who + " is not enrolled");
      // Signed over this site's transcript: a peer that saw another setup fails here.
      Status sig = VerifySignature(memo_.get(), dir->second, SigningPayload(k, config_.transcript),
                                   k.signature);
      if (!sig.ok()) {
        return sig.WithContext("secagg: advertised keys of " + who +
                               " (signed over another round setup, or forged)");
      }
      // Validly signed but unusable: the sender is to blame, and the coordinator (which runs
      // the same check on arrival, Server::AddAdvertisedKeys) should have dropped it.
      Status usable = CheckAdvertisedKeys(k);
      if (!usable.ok()) {
        return usable.WithContext("refusing the key relay; the coordinator should have dropped " +
                                  who);
      }
      if (!seen_keys.insert(k.c_pk).second || !seen_keys.insert(k.s_pk).second) {
        return Corrupt("secagg: " + who + " reuses a public key");
      }
    }
    if (!all.emplace(k.site_id, k).second) return Corrupt("secagg: " + who + " advertised twice");
  }
  if (!all.count(id_)) {  // the relay may leave this site's own keys out
    AdvertisedKeys self;
    self.site_id = id_;
    self.round = config_.round;
    self.c_pk = st.c_pair->public_key();
    self.s_pk = st.s_pair->public_key();
    all.emplace(id_, self);
  }
  if (all.size() != config_.num_sites) {
    // A partial view would let the coordinator give this site a smaller share group than its
    // peers see, and later collect both secrets that matter for it.
    for (uint32_t i = 1; i <= config_.num_sites; ++i) {
      if (!all.count(i)) {
        return PermissionDenied("secagg: the key relay omits site " + std::to_string(i) +
                                "; refusing to share with a partial view");
      }
    }
  }
  ASSIGN_OR_RETURN(config_.graph_seed, DeriveGraphSeed(config_.graph_seed, all, config_.num_sites));
  ASSIGN_OR_RETURN(graph_, NeighbourGraph::Build(config_));
  std::map<uint32_t, AdvertisedKeys> peers;
  for (const auto& [peer, keys] : all) {
    if (peer != id_ && graph_.AreNeighbours(id_, peer)) peers.emplace(peer, keys);
  }

  ASSIGN_OR_RETURN(st.b, RandomSecret32());
  ASSIGN_OR_RETURN(Secret32 s_sk, st.s_pair->private_key());
  const std::vector<uint32_t> group = graph_.ShareGroup(id_);
  const uint32_t group_size = static_cast<uint32_t>(group.size());
  ASSIGN_OR_RETURN(std::vector<Share> b_shares,
                   ShamirSplit(st.b.data(), st.b.size(), config_.threshold, group_size));
  ASSIGN_OR_RETURN(std::vector<Share> s_shares,
                   ShamirSplit(s_sk.data(), s_sk.size(), config_.threshold, group_size));

  const uint32_t self_index = graph_.ShareIndex(id_, id_);
  st.held[id_] = Held{b_shares[self_index - 1], s_shares[self_index - 1]};
  std::vector<EncryptedShares> out;
  out.reserve(peers.size());
  for (const auto& [peer, keys] : peers) {
    const uint32_t index = graph_.ShareIndex(id_, peer);
    ASSIGN_OR_RETURN(Secret32 dh, st.c_pair->Agree(keys.c_pk));
    ASSIGN_OR_RETURN(Secret32 key, ShareEncryptionKey(dh, config_.round, id_, peer));
    const SecretBuffer plain =
        EncodeSharePlaintext(id_, peer, config_.round, b_shares[index - 1], s_shares[index - 1]);
    EncryptedShares msg;
    msg.from = id_;
    msg.to = peer;
    ASSIGN_OR_RETURN(msg.ciphertext, AesGcmSeal(key, ShareAad(config_.round, id_, peer),
                                                plain.data(), plain.size()));
    out.push_back(std::move(msg));
  }
  st.peers = std::move(peers);
  stage_ = Stage::kShared;
  return out;
}

Result<MaskedInput> Site::MaskInput(const std::vector<EncryptedShares>& received,
                                    const std::vector<uint32_t>& input) {
  if (stage_ != Stage::kShared) return FailedPrecondition("secagg: MaskInput out of order");
  if (input.size() != config_.vector_length) {
    return InvalidArgument("secagg: input has " + std::to_string(input.size()) +
                           " words, expected " + std::to_string(config_.vector_length));
  }
  if (config_.mask_bits < 32) {
    const uint32_t limit = uint32_t{1} << config_.mask_bits;
    for (uint32_t v : input) {
      if (v >= limit) return InvalidArgument("secagg: input word does not fit in mask_bits");
    }
  }
  State& st = *state_;
  std::map<uint32_t, Held> held;
  for (const EncryptedShares& msg : received) {
    const std::string who = "shares from site " + std::to_string(msg.from);
    if (msg.to != id_) return InvalidArgument("secagg: " + who + " addressed to another site");
    auto peer = st.peers.find(msg.from);
    if (peer == st.peers.end()) return PermissionDenied("secagg: " + who + ": not a neighbour");
    if (held.count(msg.from)) return Corrupt("secagg: duplicate " + who);
    ASSIGN_OR_RETURN(Secret32 dh, st.c_pair->Agree(peer->second.c_pk));
    ASSIGN_OR_RETURN(Secret32 key, ShareEncryptionKey(dh, config_.round, msg.from, id_));
    Result<SecretBuffer> plain =
        AesGcmOpen(key, ShareAad(config_.round, msg.from, id_), msg.ciphertext);
    if (!plain.ok()) return plain.status().WithContext("secagg: " + who);
    ASSIGN_OR_RETURN(DecodedShares dec, DecodeSharePlaintext(*plain, msg.from, id_, config_.round));
    const uint32_t index = graph_.ShareIndex(msg.from, id_);
    if (dec.b_share.index != index || dec.s_share.index != index) {
      return Corrupt("secagg: " + who + " carry the wrong share index");
    }
    held[msg.from] = Held{std::move(dec.b_share), std::move(dec.s_share)};
  }
  // Every peer this site shared with must share back: a relay that silently omits some makes
  // this site mask with fewer peers than the others believe (docs/security.md).
  for (const auto& [peer, keys] : st.peers) {
    if (!held.count(peer)) {
      return PermissionDenied("secagg: the share relay omits site " + std::to_string(peer) +
                              "; refusing to mask with a partial view");
    }
  }
  if (held.size() + 1 < config_.threshold) {
    return Aborted("secagg: only " + std::to_string(held.size() + 1) +
                   " members of the share group shared keys, threshold " +
                   std::to_string(config_.threshold));
  }

  MaskedInput out;
  out.site_id = id_;
  out.masked = input;
  ASSIGN_OR_RETURN(Secret32 self_seed, SelfMaskSeed(st.b, config_.round, id_));
  RETURN_IF_ERROR(AddMask(self_seed, /*subtract=*/false, out.masked.data(), out.masked.size()));
  for (const auto& [peer, shares] : held) {
    ASSIGN_OR_RETURN(Secret32 dh, st.s_pair->Agree(st.peers.at(peer).s_pk));
    ASSIGN_OR_RETURN(Secret32 seed, PairwiseMaskSeed(dh, config_.round, id_, peer));
    RETURN_IF_ERROR(AddMask(seed, /*subtract=*/id_ > peer, out.masked.data(), out.masked.size()));
  }
  ReduceMod(config_.mask_bits, out.masked.data(), out.masked.size());

  for (auto& [owner, shares] : held) st.held[owner] = std::move(shares);
  st.b = Secret32();  // no longer needed: the site only reveals shares from now on
  st.s_pair.reset();
  stage_ = Stage::kMasked;
  return out;
}

Result<Signature64> Site::SignSurvivors(const std::vector<uint32_t>& survivors) {
  if (stage_ != Stage::kMasked) return FailedPrecondition("secagg: consistency check before MaskInput");
  State& st = *state_;
  if (st.signed_survivors) {
    if (*st.signed_survivors != survivors) {
      return PermissionDenied("secagg: asked to sign a second, different survivor set");
    }
  } else {
    if (!std::is_sorted(survivors.begin(), survivors.end()) ||
        std::adjacent_find(survivors.begin(), survivors.end()) != survivors.end()) {
      return InvalidArgument("secagg: survivor set must be sorted and without repeats");
    }
    uint32_t in_group = 0;
    for (uint32_t id : survivors) {
      if (id < 1 || id > config_.num_sites) {
        return InvalidArgument("secagg: survivor set names site " + std::to_string(id) +
                               ", not in 1.." + std::to_string(config_.num_sites));
      }
      in_group += id == id_ || graph_.AreNeighbours(id_, id);
    }
    if (!std::binary_search(survivors.begin(), survivors.end(), id_)) {
      return PermissionDenied("secagg: survivor set does not list this site");
    }
    if (in_group < config_.threshold) {
      return Aborted("secagg: only " + std::to_string(in_group) +
                     " survivors in this site's share group, threshold " +
                     std::to_string(config_.threshold));
    }
    st.signed_survivors = survivors;
  }
  return st.identity->Sign(
      ConsistencyPayload(config_.round, config_.transcript, config_.graph_seed, survivors));
}

Result<UnmaskResponse> Site::Unmask(const UnmaskRequest& request) {
  if (stage_ != Stage::kMasked) return FailedPrecondition("secagg: Unmask before MaskInput");
  State& st = *state_;
  const std::set<uint32_t> survivors(request.survivors.begin(), request.survivors.end());
  const std::set<uint32_t> dropped(request.dropped.begin(), request.dropped.end());
  if (survivors.size() != request.survivors.size() || dropped.size() != request.dropped.size()) {
    return InvalidArgument("secagg: unmask request lists a site twice");
  }
  // Every listed id must exist, be in this site's share group and be a peer whose shares this
  // site holds: padded or foreign ids would make it reveal shares the sum does not need.
  for (const std::set<uint32_t>* ids : {&survivors, &dropped}) {
    for (uint32_t i : *ids) {
      if (i < 1 || i > config_.num_sites) {
        return InvalidArgument("secagg: unmask request names site " + std::to_string(i) +
                               ", not in 1.." + std::to_string(config_.num_sites));
      }
      if (i != id_ && !graph_.AreNeighbours(id_, i)) {
        return PermissionDenied("secagg: unmask request names site " + std::to_string(i) +
                                ", which is not in this site's share group");
      }
      if (!st.held.count(i)) {
        return PermissionDenied("secagg: unmask request names site " + std::to_string(i) +
                                ", whose shares this site does not hold");
      }
    }
  }
  for (uint32_t d : dropped) {
    if (survivors.count(d)) {
      return PermissionDenied("secagg: unmask request lists site " + std::to_string(d) +
                              " as both survived and dropped");
    }
  }
  if (dropped.count(id_) || !survivors.count(id_)) {
    return PermissionDenied("secagg: unmask request does not list this site as a survivor");
  }
  if (survivors.size() < config_.threshold) {
    return Aborted("secagg: only " + std::to_string(survivors.size()) + " survivors, threshold " +
                   std::to_string(config_.threshold));
  }
  if (!st.signed_survivors) {
    return PermissionDenied("secagg: unmask request before the consistency check");
  }
  // The request must be the signed set's part of this site's share group...
  const std::vector<uint32_t>& u3 = *st.signed_survivors;
  std::vector<uint32_t> want_survivors, want_dropped;
  for (uint32_t member : graph_.ShareGroup(id_)) {
    (std::binary_search(u3.begin(), u3.end(), member) ? want_survivors : want_dropped)
        .push_back(member);
  }
  std::vector<uint32_t> got_survivors = request.survivors, got_dropped = request.dropped;
  std::sort(got_survivors.begin(), got_survivors.end());
  std::sort(got_dropped.begin(), got_dropped.end());
  if (got_survivors != want_survivors || got_dropped != want_dropped) {
    return PermissionDenied(
        "secagg: unmask request differs from the survivor set this site signed");
  }
  // ... and t members of the share group must have signed that same set.
  const Bytes payload =
      ConsistencyPayload(config_.round, config_.transcript, config_.graph_seed, u3);
  uint32_t valid = 0;
  for (const auto& [signer, signature] : request.signatures) {
    if (!std::binary_search(want_survivors.begin(), want_survivors.end(), signer)) continue;
    auto key = directory_.find(signer);
    if (key == directory_.end()) continue;
    if (VerifySignature(memo_.get(), key->second, payload, signature).ok()) ++valid;
  }
  if (valid < config_.threshold) {
    return PermissionDenied("secagg: only " + std::to_string(valid) +
                            " valid consistency signatures from the share group, threshold " +
                            std::to_string(config_.threshold));
  }
  // Decide first, reveal nothing unless the whole answer is consistent with earlier answers.
  std::vector<std::pair<uint32_t, ShareKind>> plan;
  for (const auto& [owner, shares] : st.held) {
    ShareKind kind;
    if (survivors.count(owner)) {
      kind = ShareKind::kSelfMaskSeed;
    } else if (dropped.count(owner)) {
      kind = ShareKind::kMaskingKey;
    } else {
      continue;
    }
    auto prior = st.revealed.find(owner);
    if (prior != st.revealed.end() && prior->second != kind) {
      return PermissionDenied("secagg: refusing to reveal both shares of site " +
                              std::to_string(owner));
    }
    plan.emplace_back(owner, kind);
  }
  UnmaskResponse out;
  out.site_id = id_;
  for (const auto& [owner, kind] : plan) {
    st.revealed[owner] = kind;
    const Held& h = st.held.at(owner);
    out.shares.push_back(
        RevealedShare{owner, kind, kind == ShareKind::kSelfMaskSeed ? h.b_share : h.s_share});
  }
  return out;
}

}  // namespace fedsmear::secagg
