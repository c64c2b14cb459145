// SecAgg+ stage messages as plain structs, plus the byte strings that get signed, authenticated
// or fed to key derivation.
//
// What: transport-free message contents for stages 1-4. The coordinator/site code maps these
// onto the wire schema (Cap'n Proto); only the helper encodings below are security-relevant and
// must be computed identically on both ends: SigningPayload (stage 1), ShareAad and the share
// plaintext (stage 2), and KdfInfo (all derived keys). All integers are little-endian.
// Thread-safety: values. Ownership: plain data; RevealedShare wipes its share (Share does).
// Security notes: every derived key and every authenticated byte string binds the protocol
// label, the round and the site ids, so messages cannot be replayed across rounds or pairs.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <map>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "secagg/crypto.h"
#include "secagg/shamir.h"

namespace fedsmear::secagg {

inline constexpr std::string_view kProtocolSalt = "fedsmear-secagg-v1";

// Stage 1: a site's two fresh X25519 public keys, signed with its long-term Ed25519 key.
struct AdvertisedKeys {
  uint32_t site_id = 0;
  uint64_t round = 0;
  PublicKey32 c_pk{};  // encryption key (share transport)
  PublicKey32 s_pk{};  // masking key (pairwise masks)
  Signature64 signature{};
};
// label || round || transcript || site_id || c_pk || s_pk. `transcript`: Config::transcript, so
// a signature also says which round setup its signer saw.
Bytes SigningPayload(const AdvertisedKeys& keys, const std::array<uint8_t, 32>& transcript);
// OK unless c_pk or s_pk is a small-order X25519 point or c_pk == s_pk; kPermissionDenied names
// the site. The server calls it on arrival (so the coordinator drops the sender), every site
// again on the relay.
Status CheckAdvertisedKeys(const AdvertisedKeys& keys);

// Stage 2: the pair (share of b, share of s_sk) from `from` to `to`, AES-256-GCM sealed.
struct EncryptedShares {
  uint32_t from = 0;
  uint32_t to = 0;
  Bytes ciphertext;  // nonce || ct || tag, see AesGcmSeal
};
// label || round || from || to.
Bytes ShareAad(uint64_t round, uint32_t from, uint32_t to);

// Stage 3: y = x + PRG(b) + sum_j +-PRG(s_ij) mod 2^mask_bits.
struct MaskedInput {
  uint32_t site_id = 0;
  std::vector<uint32_t> masked;
};

// Consistency round (Bonawitz et al. 2017), between stages 3 and 4: every survivor signs the
// survivor set U3 with its Ed25519 identity: label || round || transcript || graph seed || n ||
// ids (sorted). The graph seed is the derived one (DeriveGraphSeed), which hashes all n sites'
// round keys, so a signer also vouches for the setup and the key set it masked with.
Bytes ConsistencyPayload(uint64_t round, const std::array<uint8_t, 32>& transcript,
                         const std::array<uint8_t, 32>& graph_seed,
                         const std::vector<uint32_t>& survivors);

// Stage 4 request (coordinator -> survivors): who sent a masked input and who did not, within
// the receiving site's share group, with the consistency signatures of its group's survivors.
struct UnmaskRequest {
  std::vector<uint32_t> survivors;  // U3, sorted
  std::vector<uint32_t> dropped;    // U2 \ U3, sorted
  std::map<uint32_t, Signature64> signatures = {};  // signer -> ConsistencyPayload signature
};

enum class ShareKind : uint8_t {
  kSelfMaskSeed = 1,  // share of b (owner survived)
  kMaskingKey = 2,    // share of s_sk (owner dropped)
};

struct RevealedShare {
  uint32_t owner = 0;
  ShareKind kind = ShareKind::kSelfMaskSeed;
  Share share;
};

// Stage 4 response (survivor -> coordinator).
struct UnmaskResponse {
  uint32_t site_id = 0;
  std::vector<RevealedShare> shares;
};

// HKDF info: label || round || a || b (a, b: site ids, 0 when unused).
Bytes KdfInfo(std::string_view label, uint64_t round, uint32_t a, uint32_t b);

// Derived keys (HKDF-SHA256, salt kProtocolSalt).
Result<Secret32> ShareEncryptionKey(const Secret32& dh, uint64_t round, uint32_t a, uint32_t b);
Result<Secret32> PairwiseMaskSeed(const Secret32& dh, uint64_t round, uint32_t a, uint32_t b);
Result<Secret32> SelfMaskSeed(const Secret32& b, uint64_t round, uint32_t owner);

// Share plaintext: from || to || round || share(b) || share(s_sk).
SecretBuffer EncodeSharePlaintext(uint32_t from, uint32_t to, uint64_t round, const Share& b_share,
                                  const Share& s_share);
struct DecodedShares {
  Share b_share;
  Share s_share;
};
Result<DecodedShares> DecodeSharePlaintext(const SecretBuffer& plain, uint32_t from, uint32_t to,
                                           uint64_t round);

}  // namespace fedsmear::secagg
