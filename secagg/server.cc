#include "secagg/server.h"

#include <algorithm>
#include <string>

#include "secagg/consistency.h"
#include "secagg/prg.h"

namespace fedsmear::secagg {
namespace {

constexpr size_t kSecretBytes = 32;

std::string Id(uint32_t site) { return "site " + std::to_string(site); }

bool SentTo(const std::vector<EncryptedShares>& sent, uint32_t to) {
  return std::any_of(sent.begin(), sent.end(),
                     [to](const EncryptedShares& m) { return m.to == to; });
}

}  // namespace

Result<Server> Server::Create(const Config& config, IdentityDirectory directory) {
  ASSIGN_OR_RETURN(Config resolved, ResolveConfig(config));
  ASSIGN_OR_RETURN(NeighbourGraph graph, NeighbourGraph::Build(resolved));
  Server s;
  s.config_ = resolved;
  s.graph_ = std::move(graph);
  s.directory_ = std::move(directory);
  return s;
}

Status Server::AddAdvertisedKeys(const AdvertisedKeys& keys) {
  if (stage_ != Stage::kAdvertise) return FailedPrecondition("secagg: advertise stage is closed");
  if (keys.site_id < 1 || keys.site_id > config_.num_sites) {
    return InvalidArgument("secagg: unknown " + Id(keys.site_id));
  }
  if (keys.round != config_.round) return PermissionDenied("secagg: keys for the wrong round");
  auto dir = directory_.find(keys.site_id);
  if (dir == directory_.end())
    return PermissionDenied("secagg: " + Id(keys.site_id) + " not enrolled");
  Status sig = Ed25519Verify(dir->second, SigningPayload(keys, config_.transcript), keys.signature);
  if (!sig.ok()) return sig.WithContext("secagg: advertised keys of " + Id(keys.site_id));
  // Validly signed, so the sender is to blame for a key no peer could use: it is refused here
  // and never relayed (every site would refuse the relay).
  RETURN_IF_ERROR(CheckAdvertisedKeys(keys));
  if (!advertised_.emplace(keys.site_id, keys).second) {
    return InvalidArgument("secagg: " + Id(keys.site_id) + " advertised twice");
  }
  return Status::Ok();
}

Status Server::CloseAdvertiseStage() {
  if (stage_ != Stage::kAdvertise) return FailedPrecondition("secagg: advertise stage is closed");
  if (advertised_.size() < config_.num_sites) {
    // Sites accept only complete key sets (the graph seed is derived from all of them).
    return Aborted("secagg: " + std::to_string(advertised_.size()) + " of " +
                   std::to_string(config_.num_sites) + " sites advertised keys; all are needed");
  }
  ASSIGN_OR_RETURN(config_.graph_seed,
                   DeriveGraphSeed(config_.graph_seed, advertised_, config_.num_sites));
  ASSIGN_OR_RETURN(graph_, NeighbourGraph::Build(config_));
  stage_ = Stage::kShare;
  return Status::Ok();
}

Result<std::vector<AdvertisedKeys>> Server::KeysFor(uint32_t site) const {
  if (stage_ == Stage::kAdvertise) return FailedPrecondition("secagg: advertise stage still open");
  if (!advertised_.count(site)) return NotFound("secagg: " + Id(site) + " did not advertise");
  std::vector<AdvertisedKeys> out;  // every site's: each site derives the graph from all
  for (const auto& [id, keys] : advertised_) {
    if (id != site) out.push_back(keys);
  }
  return out;
}

Status Server::AddEncryptedShares(uint32_t from, const std::vector<EncryptedShares>& shares) {
  if (stage_ != Stage::kShare) return FailedPrecondition("secagg: share stage is not open");
  if (!advertised_.count(from))
    return PermissionDenied("secagg: " + Id(from) + " did not advertise");
  if (shares_from_.count(from)) return InvalidArgument("secagg: " + Id(from) + " shared twice");
  std::set<uint32_t> seen;
  for (const EncryptedShares& m : shares) {
    if (m.from != from) return InvalidArgument("secagg: share message with a forged sender");
    if (!graph_.AreNeighbours(from, m.to) || !advertised_.count(m.to) ||
        !seen.insert(m.to).second) {
      return InvalidArgument("secagg: " + Id(from) + " sent shares to an invalid receiver");
    }
  }
  shares_from_[from] = shares;
  return Status::Ok();
}

Status Server::CloseShareStage() {
  if (stage_ != Stage::kShare) return FailedPrecondition("secagg: share stage is not open");
  if (shares_from_.size() < config_.threshold) {
    return Aborted("secagg: " + std::to_string(shares_from_.size()) + " sites shared keys, " +
                   std::to_string(config_.threshold) + " needed");
  }
  sum_.assign(config_.vector_length, 0);
  stage_ = Stage::kMask;
  return Status::Ok();
}

Result<std::vector<EncryptedShares>> Server::SharesFor(uint32_t site) const {
  if (stage_ == Stage::kAdvertise || stage_ == Stage::kShare) {
    return FailedPrecondition("secagg: share stage still open");
  }
  std::vector<EncryptedShares> out;
  for (const auto& [from, sent] : shares_from_) {
    for (const EncryptedShares& m : sent) {
      if (m.to == site) out.push_back(m);
    }
  }
  return out;
}

Status Server::AddMaskedInput(const MaskedInput& input) {
  if (stage_ != Stage::kMask) return FailedPrecondition("secagg: mask stage is not open");
  if (!shares_from_.count(input.site_id)) {
    return PermissionDenied("secagg: " + Id(input.site_id) + " did not share keys");
  }
  if (input.masked.size() != config_.vector_length) {
    return InvalidArgument("secagg: masked input of " + Id(input.site_id) +
                           " has the wrong length");
  }
  if (!masked_.insert(input.site_id).second) {
    return InvalidArgument("secagg: " + Id(input.site_id) + " sent two masked inputs");
  }
  uint32_t* sum = sum_.data();
  const uint32_t* y = input.masked.data();
  for (size_t i = 0; i < sum_.size(); ++i) sum[i] += y[i];  // mod 2^32; reduced in Finish
  return Status::Ok();
}

Result<UnmaskRequest> Server::CloseMaskStage() {
  if (stage_ != Stage::kMask) return FailedPrecondition("secagg: mask stage is not open");
  if (masked_.size() < config_.threshold) {
    return Aborted("secagg: " + std::to_string(masked_.size()) + " masked inputs, " +
                   std::to_string(config_.threshold) + " needed");
  }
  request_ = UnmaskRequest{};
  request_.survivors.assign(masked_.begin(), masked_.end());
  for (const auto& [site, sent] : shares_from_) {
    if (!masked_.count(site)) request_.dropped.push_back(site);
  }
  stage_ = Stage::kUnmask;
  return request_;
}

Status Server::AddConsistencySignature(uint32_t site, const Signature64& signature) {
  if (stage_ != Stage::kUnmask) return FailedPrecondition("secagg: unmask stage is not open");
  if (!masked_.count(site)) return PermissionDenied("secagg: " + Id(site) + " is no survivor");
  auto key = directory_.find(site);
  if (key == directory_.end()) return PermissionDenied("secagg: " + Id(site) + " is not enrolled");
  RETURN_IF_ERROR(Ed25519Verify(key->second,
                                ConsistencyPayload(config_.round, config_.transcript,
                                                   config_.graph_seed, request_.survivors),
                                signature)
                      .WithContext("secagg: consistency signature of " + Id(site)));
  request_.signatures[site] = signature;
  return Status::Ok();
}

UnmaskRequest Server::RequestFor(uint32_t site) const {
  const std::vector<uint32_t> group = graph_.ShareGroup(site);
  auto in_group = [&](uint32_t id) { return std::binary_search(group.begin(), group.end(), id); };
  UnmaskRequest out;
  for (uint32_t id : request_.survivors) {
    if (in_group(id)) out.survivors.push_back(id);
  }
  for (uint32_t id : request_.dropped) {
    if (in_group(id)) out.dropped.push_back(id);
  }
  for (const auto& [signer, signature] : request_.signatures) {
    if (in_group(signer)) out.signatures.emplace(signer, signature);
  }
  return out;
}

Status Server::AddUnmaskResponse(const UnmaskResponse& response) {
  if (stage_ != Stage::kUnmask) return FailedPrecondition("secagg: unmask stage is not open");
  const uint32_t holder = response.site_id;
  if (!masked_.count(holder)) return PermissionDenied("secagg: " + Id(holder) + " is no survivor");
  if (!responded_.insert(holder).second) {
    return InvalidArgument("secagg: " + Id(holder) + " answered twice");
  }
  for (const RevealedShare& r : response.shares) {
    const bool survived = masked_.count(r.owner) > 0;
    const bool dropped = !survived && shares_from_.count(r.owner) > 0;
    const ShareKind expected = survived ? ShareKind::kSelfMaskSeed : ShareKind::kMaskingKey;
    if ((!survived && !dropped) || r.kind != expected) {
      return Corrupt("secagg: " + Id(holder) + " revealed an unexpected share of " + Id(r.owner));
    }
    const bool holds = r.owner == holder || SentTo(shares_from_.at(r.owner), holder);
    if (!holds || r.share.index != graph_.ShareIndex(r.owner, holder)) {
      return Corrupt("secagg: " + Id(holder) + " revealed a share it cannot hold for " +
                     Id(r.owner));
    }
    revealed_[{r.owner, r.kind}][holder] = r.share;
  }
  return Status::Ok();
}

Result<std::vector<Share>> Server::SharesOf(uint32_t owner, ShareKind kind) const {
  std::vector<Share> out;
  auto it = revealed_.find({owner, kind});
  if (it != revealed_.end()) {
    for (const auto& [holder, share] : it->second) out.push_back(share);
  }
  if (out.size() < config_.threshold) {
    return Aborted("secagg: " + std::to_string(out.size()) + " of " +
                   std::to_string(config_.threshold) + " shares of the " +
                   (kind == ShareKind::kSelfMaskSeed ? "self-mask seed" : "masking key") + " of " +
                   Id(owner));
  }
  return out;
}

Result<std::vector<uint32_t>> Server::Finish() {
  if (stage_ != Stage::kUnmask) return FailedPrecondition("secagg: Finish out of order");
  // Check every needed secret before doing any work, so an abort is cheap and clean.
  for (uint32_t i : request_.survivors)
    RETURN_IF_ERROR(SharesOf(i, ShareKind::kSelfMaskSeed).status());
  for (uint32_t j : request_.dropped) RETURN_IF_ERROR(SharesOf(j, ShareKind::kMaskingKey).status());

  std::vector<uint32_t> result = sum_;
  for (uint32_t i : request_.survivors) {
    ASSIGN_OR_RETURN(std::vector<Share> shares, SharesOf(i, ShareKind::kSelfMaskSeed));
    Result<SecretBuffer> b = ShamirCombine(shares, config_.threshold, kSecretBytes);
    if (!b.ok()) return b.status().WithContext("secagg: self-mask seed of " + Id(i));
    Secret32 b32;
    std::copy(b->data(), b->data() + kSecretBytes, b32.data());
    ASSIGN_OR_RETURN(Secret32 seed, SelfMaskSeed(b32, config_.round, i));
    RETURN_IF_ERROR(AddMask(seed, /*subtract=*/true, result.data(), result.size()));
  }
  for (uint32_t j : request_.dropped) {
    ASSIGN_OR_RETURN(std::vector<Share> shares, SharesOf(j, ShareKind::kMaskingKey));
    Result<SecretBuffer> s = ShamirCombine(shares, config_.threshold, kSecretBytes);
    if (!s.ok()) return s.status().WithContext("secagg: masking key of " + Id(j));
    Secret32 s_sk;
    std::copy(s->data(), s->data() + kSecretBytes, s_sk.data());
    ASSIGN_OR_RETURN(X25519KeyPair pair, X25519KeyPair::FromPrivate(s_sk));
    if (pair.public_key() != advertised_.at(j).s_pk) {
      return Corrupt("secagg: rebuilt masking key of " + Id(j) + " does not match its s_pk");
    }
    for (uint32_t i : graph_.Neighbours(j)) {
      if (!masked_.count(i) || !SentTo(shares_from_.at(j), i)) continue;  // i never masked with j
      ASSIGN_OR_RETURN(Secret32 dh, pair.Agree(advertised_.at(i).s_pk));
      ASSIGN_OR_RETURN(Secret32 seed, PairwiseMaskSeed(dh, config_.round, i, j));
      // Site i added +PRG when i < j and -PRG when i > j; undo it.
      RETURN_IF_ERROR(AddMask(seed, /*subtract=*/i < j, result.data(), result.size()));
    }
  }
  ReduceMod(config_.mask_bits, result.data(), result.size());
  stage_ = Stage::kDone;
  return result;
}

}  // namespace fedsmear::secagg
