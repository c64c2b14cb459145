#include "secagg/site_secagg_wire.h"

#include <cstring>

#include "common/sha256.h"
#include "secagg/shamir.h"

namespace fedsmear {

Result<secagg::PublicKey32> Key32FromBytes(const std::string& bytes, const char* what) {
  secagg::PublicKey32 out{};
  if (bytes.size() != out.size()) {
    return Corrupt(std::string(what) + " must be 32 bytes, got " + std::to_string(bytes.size()));
  }
  std::memcpy(out.data(), bytes.data(), out.size());
  return out;
}

std::string BytesOf(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

std::array<uint8_t, 32> SetupTranscript(const wire::SecAggSetup& setup, std::string_view run_id) {
  std::string out = "fedsmear-secagg-transcript-v2";
  out.push_back('\0');
  auto u64 = [&](uint64_t v) {
    for (int b = 0; b < 8; ++b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
  };
  auto f64 = [&](double v) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    u64(bits);
  };
  auto text = [&](std::string_view v) {
    u64(v.size());
    out.append(v.data(), v.size());
  };
  text(run_id);
  u64(setup.round);
  u64(setup.task_id);
  u64(setup.sites.size());
  for (const wire::SecAggSite& s : setup.sites) {
    text(s.site_id);
    u64(s.secagg_id);
    text(s.sign_public_key);
    u64(s.vote_weight);
    u64(s.weight);
  }
  u64(setup.total_weight);
  u64(setup.weight_cap);
  u64(setup.threshold);
  u64(setup.neighbours);
  u64(setup.mask_bits);
  text(setup.graph_seed);
  f64(setup.clip);
  f64(setup.stat_clip);
  u64(setup.vector_length);
  u64(setup.vote_bits);
  u64(static_cast<uint64_t>(setup.purpose));
  text(setup.model_sha256);
  return Sha256Of(out);
}

Result<secagg::Config> SecAggConfigFromSetup(const wire::SecAggSetup& setup,
                                             std::string_view run_id) {
  secagg::Config c;
  c.num_sites = static_cast<uint32_t>(setup.sites.size());
  c.threshold = setup.threshold;
  c.neighbours = setup.neighbours;
  c.mask_bits = setup.mask_bits;
  c.round = setup.task_id;
  if (setup.graph_seed.size() != c.graph_seed.size()) return Corrupt("graph_seed must be 32 bytes");
  std::memcpy(c.graph_seed.data(), setup.graph_seed.data(), c.graph_seed.size());
  c.vector_length = static_cast<size_t>(setup.vector_length);
  c.transcript = SetupTranscript(setup, run_id);
  return secagg::ResolveConfig(c);
}

Result<secagg::IdentityDirectory> DirectoryFromSetup(const wire::SecAggSetup& setup) {
  secagg::IdentityDirectory dir;
  for (const wire::SecAggSite& s : setup.sites) {
    ASSIGN_OR_RETURN(dir[s.secagg_id], Key32FromBytes(s.sign_public_key, "sign_public_key"));
  }
  return dir;
}

wire::SecAggPeerKeys PeerKeysToWire(const secagg::AdvertisedKeys& k) {
  return {k.site_id, BytesOf(k.c_pk.data(), k.c_pk.size()), BytesOf(k.s_pk.data(), k.s_pk.size()),
          BytesOf(k.signature.data(), k.signature.size())};
}

Result<secagg::AdvertisedKeys> PeerKeysFromWire(const wire::SecAggPeerKeys& k, uint64_t round) {
  wire::SecAggKeys keys{0, 0, k.c_pk, k.s_pk, k.signature};
  return KeysFromWire(keys, k.secagg_id, round);
}

Result<secagg::AdvertisedKeys> KeysFromWire(const wire::SecAggKeys& k, uint32_t site_id,
                                            uint64_t round) {
  secagg::AdvertisedKeys out;
  out.site_id = site_id;
  out.round = round;
  ASSIGN_OR_RETURN(out.c_pk, Key32FromBytes(k.c_pk, "c_pk"));
  ASSIGN_OR_RETURN(out.s_pk, Key32FromBytes(k.s_pk, "s_pk"));
  if (k.signature.size() != out.signature.size()) return Corrupt("signature must be 64 bytes");
  std::memcpy(out.signature.data(), k.signature.data(), out.signature.size());
  return out;
}

wire::SecAggShare ShareToWire(const secagg::EncryptedShares& s) {
  return {s.from, s.to, BytesOf(s.ciphertext.data(), s.ciphertext.size())};
}

secagg::EncryptedShares ShareFromWire(const wire::SecAggShare& s) {
  secagg::EncryptedShares out;
  out.from = s.from;
  out.to = s.to;
  out.ciphertext.assign(s.ciphertext.begin(), s.ciphertext.end());
  return out;
}

std::string WordsToBytes(const std::vector<uint32_t>& words) {
  std::string out(words.size() * 4, '\0');
  for (size_t i = 0; i < words.size(); ++i) {
    for (int b = 0; b < 4; ++b) out[4 * i + b] = static_cast<char>((words[i] >> (8 * b)) & 0xff);
  }
  return out;
}

Result<std::vector<uint32_t>> WordsFromBytes(const std::string& bytes, uint64_t count) {
  if (bytes.size() / 4 != count || bytes.size() % 4 != 0) {
    return Corrupt("masked vector has " + std::to_string(bytes.size()) + " bytes, expected " +
                   std::to_string(count) + " 32-bit words");
  }
  std::vector<uint32_t> out(count);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = uint32_t{p[4 * i]} | uint32_t{p[4 * i + 1]} << 8 | uint32_t{p[4 * i + 2]} << 16 |
             uint32_t{p[4 * i + 3]} << 24;
  }
  return out;
}

Result<secagg::Signature64> Signature64FromBytes(const std::string& bytes) {
  secagg::Signature64 out{};
  if (bytes.size() != out.size()) return Corrupt("signature must be 64 bytes");
  std::memcpy(out.data(), bytes.data(), out.size());
  return out;
}

Result<secagg::UnmaskRequest> UnmaskRequestFromWire(const wire::SecAggUnmaskRequest& r) {
  secagg::UnmaskRequest out{r.survivors, r.dropped, {}};
  for (const wire::SecAggSignedBy& s : r.signatures) {
    ASSIGN_OR_RETURN(out.signatures[s.secagg_id], Signature64FromBytes(s.signature));
  }
  return out;
}

wire::SecAggUnmaskRequest UnmaskRequestToWire(const secagg::UnmaskRequest& r, uint32_t round,
                                              uint64_t task_id) {
  wire::SecAggUnmaskRequest out{round, task_id, r.survivors, r.dropped, {}};
  for (const auto& [signer, signature] : r.signatures) {
    out.signatures.push_back({signer, BytesOf(signature.data(), signature.size())});
  }
  return out;
}

wire::SecAggUnmaskResponse UnmaskResponseToWire(const secagg::UnmaskResponse& r) {
  wire::SecAggUnmaskResponse out;
  for (const secagg::RevealedShare& s : r.shares) {
    secagg::Bytes bytes = secagg::SerializeShare(s.share);
    out.shares.push_back(
        {s.owner, static_cast<uint8_t>(s.kind), BytesOf(bytes.data(), bytes.size())});
    secagg::SecureZero(bytes.data(), bytes.size());
  }
  return out;
}

Result<secagg::UnmaskResponse> UnmaskResponseFromWire(const wire::SecAggUnmaskResponse& r,
                                                      uint32_t site_id) {
  secagg::UnmaskResponse out;
  out.site_id = site_id;
  const size_t chunks = secagg::ShamirChunkCount(32);
  for (const wire::SecAggRevealedShare& s : r.shares) {
    if (s.kind != 1 && s.kind != 2) return Corrupt("unknown share kind");
    secagg::RevealedShare rs;
    rs.owner = s.owner;
    rs.kind = static_cast<secagg::ShareKind>(s.kind);
    ASSIGN_OR_RETURN(rs.share, secagg::ParseShare(reinterpret_cast<const uint8_t*>(s.share.data()),
                                                  s.share.size(), chunks));
    out.shares.push_back(std::move(rs));
  }
  return out;
}

}  // namespace fedsmear
