// Shamir t-of-n secret sharing of byte strings over GF(p), p = 2^61 - 1.
//
// What: the secret is cut into 7-byte chunks (56-bit values < p); each chunk is the constant term
// of its own random polynomial of degree t-1, and share i holds the evaluations at x = i for all
// chunks (indices 1..n, n <= 65535). A 32-byte key becomes 5 field elements per share. Any t
// shares with distinct indices reconstruct by Lagrange interpolation at 0.
// Field choice: the Mersenne prime 2^61-1 gives exact 64x64->128-bit multiplication with a
// two-step reduction (no BIGNUM), and leaves headroom that doubles as a tamper check: every
// reconstructed chunk must fit in 56 bits (the last one in 8*(len mod 7) bits), so a share value
// replaced by a random one is caught with probability 1 - 2^-5 per 7-byte chunk (~1 - 2^-49 when
// all chunks of a 32-byte secret are garbled). This check is NOT robust against a targeted small
// offset. When more than t shares are given, all extra shares must lie on the interpolated
// polynomials, which catches any altered share. (The protocol also checks a rebuilt s_sk against
// the advertised s_pk.)
// Thread-safety: pure functions. Ownership: Share owns its values and wipes them on destruction.
// Security notes: polynomial coefficients come from RAND_priv_bytes (rejection-sampled < p) and
// are wiped after use; fewer than t shares reveal nothing about the secret.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/status.h"
#include "secagg/crypto.h"

namespace fedsmear::secagg {

inline constexpr uint64_t kShamirPrime = (uint64_t{1} << 61) - 1;
inline constexpr size_t kShamirChunkBytes = 7;
inline constexpr uint32_t kShamirMaxShares = 65535;

struct Share {
  Share() = default;
  Share(uint32_t index_in, std::vector<uint64_t> values_in)
      : index(index_in), values(std::move(values_in)) {}
  Share(const Share&) = default;
  Share& operator=(const Share&) = default;
  Share(Share&&) noexcept = default;
  Share& operator=(Share&&) noexcept = default;
  ~Share() {
    if (!values.empty()) SecureZero(values.data(), values.size() * sizeof(uint64_t));
  }

  uint32_t index = 0;            // evaluation point x, 1..n
  std::vector<uint64_t> values;  // one field element per chunk
};

// Number of field elements per share for a secret of `secret_len` bytes.
size_t ShamirChunkCount(size_t secret_len);

// Splits `secret` into n shares with indices 1..n, any t of which reconstruct it (1 <= t <= n).
Result<std::vector<Share>> ShamirSplit(const uint8_t* secret, size_t secret_len, uint32_t t,
                                       uint32_t n);

// Reconstructs a `secret_len`-byte secret from >= t shares with distinct indices.
// kAborted when fewer than t usable shares are given; kCorrupt when a share is malformed, a
// reconstructed chunk is out of range, or extra shares disagree with the first t.
Result<SecretBuffer> ShamirCombine(const std::vector<Share>& shares, uint32_t t, size_t secret_len);

// Wire form: index (u32 LE) || values (u64 LE each). Parse checks length and value < p.
Bytes SerializeShare(const Share& share);
Result<Share> ParseShare(const uint8_t* data, size_t size, size_t expected_chunks);

}  // namespace fedsmear::secagg
