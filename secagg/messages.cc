#include "secagg/messages.h"

#include <algorithm>
#include <string>

#include "common/le_bytes.h"

namespace fedsmear::secagg {
namespace {

constexpr size_t kSecretBytes = 32;

void PutLabel(Bytes& out, std::string_view label) {
  // push_back rather than insert: GCC 12 -Wstringop-overflow misfires on the latter.
  for (char ch : kProtocolSalt) out.push_back(static_cast<uint8_t>(ch));
  out.push_back('/');
  for (char ch : label) out.push_back(static_cast<uint8_t>(ch));
  out.push_back(0);
}

}  // namespace

Bytes SigningPayload(const AdvertisedKeys& keys, const std::array<uint8_t, 32>& transcript) {
  Bytes out;
  PutLabel(out, "advertise");
  AppendLe64(out, keys.round);
  out.insert(out.end(), transcript.begin(), transcript.end());
  AppendLe32(out, keys.site_id);
  out.insert(out.end(), keys.c_pk.begin(), keys.c_pk.end());
  out.insert(out.end(), keys.s_pk.begin(), keys.s_pk.end());
  return out;
}

Status CheckAdvertisedKeys(const AdvertisedKeys& keys) {
  const std::string who = "site " + std::to_string(keys.site_id);
  Status c = CheckX25519PublicKey(keys.c_pk);
  if (!c.ok()) return c.WithContext("secagg: " + who + " advertised c_pk");
  Status s = CheckX25519PublicKey(keys.s_pk);
  if (!s.ok()) return s.WithContext("secagg: " + who + " advertised s_pk");
  if (keys.c_pk == keys.s_pk) {
    return PermissionDenied("secagg: " + who + " advertised one key as both c_pk and s_pk");
  }
  return Status::Ok();
}

Bytes ConsistencyPayload(uint64_t round, const std::array<uint8_t, 32>& transcript,
                         const std::array<uint8_t, 32>& graph_seed,
                         const std::vector<uint32_t>& survivors) {
  Bytes out;
  PutLabel(out, "consistency");
  AppendLe64(out, round);
  out.insert(out.end(), transcript.begin(), transcript.end());
  out.insert(out.end(), graph_seed.begin(), graph_seed.end());
  AppendLe32(out, static_cast<uint32_t>(survivors.size()));
  for (uint32_t id : survivors) AppendLe32(out, id);
  return out;
}

Bytes ShareAad(uint64_t round, uint32_t from, uint32_t to) {
  Bytes out;
  PutLabel(out, "shares");
  AppendLe64(out, round);
  AppendLe32(out, from);
  AppendLe32(out, to);
  return out;
}

Bytes KdfInfo(std::string_view label, uint64_t round, uint32_t a, uint32_t b) {
  Bytes out;
  PutLabel(out, label);
  AppendLe64(out, round);
  AppendLe32(out, a);
  AppendLe32(out, b);
  return out;
}

Result<Secret32> ShareEncryptionKey(const Secret32& dh, uint64_t round, uint32_t a, uint32_t b) {
  return HkdfSha256Key(dh, kProtocolSalt,
                       KdfInfo("share-encryption", round, std::min(a, b), std::max(a, b)));
}

Result<Secret32> PairwiseMaskSeed(const Secret32& dh, uint64_t round, uint32_t a, uint32_t b) {
  return HkdfSha256Key(dh, kProtocolSalt,
                       KdfInfo("pairwise-mask", round, std::min(a, b), std::max(a, b)));
}

Result<Secret32> SelfMaskSeed(const Secret32& b, uint64_t round, uint32_t owner) {
  return HkdfSha256Key(b, kProtocolSalt, KdfInfo("self-mask", round, owner, 0));
}

SecretBuffer EncodeSharePlaintext(uint32_t from, uint32_t to, uint64_t round, const Share& b_share,
                                  const Share& s_share) {
  Bytes out;
  out.reserve(16 + 8 + 8 * (b_share.values.size() + s_share.values.size()));  // no realloc copies
  AppendLe32(out, from);
  AppendLe32(out, to);
  AppendLe64(out, round);
  SecretBuffer b(SerializeShare(b_share));
  SecretBuffer s(SerializeShare(s_share));
  out.insert(out.end(), b.bytes().begin(), b.bytes().end());
  out.insert(out.end(), s.bytes().begin(), s.bytes().end());
  return SecretBuffer(std::move(out));
}

Result<DecodedShares> DecodeSharePlaintext(const SecretBuffer& plain, uint32_t from, uint32_t to,
                                           uint64_t round) {
  const size_t chunks = ShamirChunkCount(kSecretBytes);
  const size_t share_len = 4 + 8 * chunks;
  if (plain.size() != 16 + 2 * share_len) return Corrupt("secagg: share plaintext has wrong size");
  const uint8_t* p = plain.data();
  if (LoadLe32(p) != from || LoadLe32(p + 4) != to || LoadLe64(p + 8) != round) {
    return Corrupt("secagg: share plaintext names the wrong sender, receiver or round");
  }
  DecodedShares out;
  ASSIGN_OR_RETURN(out.b_share, ParseShare(p + 16, share_len, chunks));
  ASSIGN_OR_RETURN(out.s_share, ParseShare(p + 16 + share_len, share_len, chunks));
  return out;
}

}  // namespace fedsmear::secagg
