#include "secagg/shamir.h"

#include <algorithm>
#include <map>
#include <string>

namespace fedsmear::secagg {
namespace {

constexpr uint64_t kP = kShamirPrime;

inline uint64_t Reduce(uint64_t r) {
  r = (r & kP) + (r >> 61);
  return r >= kP ? r - kP : r;
}
inline uint64_t Add(uint64_t a, uint64_t b) { return Reduce(a + b); }
inline uint64_t Sub(uint64_t a, uint64_t b) { return a >= b ? a - b : a + kP - b; }
inline uint64_t Mul(uint64_t a, uint64_t b) {
  const unsigned __int128 prod = static_cast<unsigned __int128>(a) * b;
  const uint64_t lo = static_cast<uint64_t>(prod) & kP;
  const uint64_t hi = static_cast<uint64_t>(prod >> 61);
  return Reduce(lo + hi);
}
uint64_t Pow(uint64_t base, uint64_t exp) {
  uint64_t result = 1;
  while (exp > 0) {
    if (exp & 1) result = Mul(result, base);
    base = Mul(base, base);
    exp >>= 1;
  }
  return result;
}
inline uint64_t Inv(uint64_t a) { return Pow(a, kP - 2); }  // a != 0

// Uniform element of GF(p) by rejection sampling 61-bit values.
Result<uint64_t> RandomElement() {
  for (;;) {
    uint64_t v = 0;
    RETURN_IF_ERROR(RandomBytes(reinterpret_cast<uint8_t*>(&v), sizeof(v)));
    v &= kP;
    if (v < kP) return v;
  }
}

size_t ChunkLen(size_t secret_len, size_t chunk) {
  return std::min(kShamirChunkBytes, secret_len - chunk * kShamirChunkBytes);
}

// Lagrange basis polynomials of the points xs, evaluated at x.
std::vector<uint64_t> LagrangeAt(const std::vector<uint64_t>& xs, uint64_t x) {
  std::vector<uint64_t> out(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    uint64_t num = 1, den = 1;
    for (size_t j = 0; j < xs.size(); ++j) {
      if (j == i) continue;
      num = Mul(num, Sub(x, xs[j]));
      den = Mul(den, Sub(xs[i], xs[j]));
    }
    out[i] = Mul(num, Inv(den));
  }
  return out;
}

}  // namespace

size_t ShamirChunkCount(size_t secret_len) {
  return (secret_len + kShamirChunkBytes - 1) / kShamirChunkBytes;
}

Result<std::vector<Share>> ShamirSplit(const uint8_t* secret, size_t secret_len, uint32_t t,
                                       uint32_t n) {
  if (secret_len == 0) return InvalidArgument("Shamir: empty secret");
  if (n == 0 || n > kShamirMaxShares) return InvalidArgument("Shamir: n must be in 1..65535");
  if (t == 0 || t > n) {
    return InvalidArgument("Shamir: threshold " + std::to_string(t) + " not in 1.." +
                           std::to_string(n));
  }
  const size_t chunks = ShamirChunkCount(secret_len);
  std::vector<Share> shares(n);
  for (uint32_t i = 0; i < n; ++i) {
    shares[i].index = i + 1;
    shares[i].values.assign(chunks, 0);
  }
  std::vector<uint64_t> coeffs(t);
  for (size_t c = 0; c < chunks; ++c) {
    uint64_t value = 0;
    const size_t len = ChunkLen(secret_len, c);
    for (size_t b = 0; b < len; ++b) {
      value |= static_cast<uint64_t>(secret[c * kShamirChunkBytes + b]) << (8 * b);
    }
    coeffs[0] = value;
    for (uint32_t k = 1; k < t; ++k) {
      ASSIGN_OR_RETURN(coeffs[k], RandomElement());
    }
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t x = i + 1;
      uint64_t y = 0;
      for (uint32_t k = t; k-- > 0;) y = Add(Mul(y, x), coeffs[k]);  // Horner
      shares[i].values[c] = y;
    }
    SecureZero(&value, sizeof(value));
  }
  SecureZero(coeffs.data(), coeffs.size() * sizeof(uint64_t));
  return shares;
}

Result<SecretBuffer> ShamirCombine(const std::vector<Share>& shares, uint32_t t,
                                   size_t secret_len) {
  if (t == 0 || secret_len == 0) return InvalidArgument("Shamir: threshold and length must be > 0");
  const size_t chunks = ShamirChunkCount(secret_len);
  std::map<uint32_t, const Share*> distinct;
  for (const Share& s : shares) {
    if (s.index == 0 || s.index > kShamirMaxShares)
      return Corrupt("Shamir: share index out of range");
    if (s.values.size() != chunks) return Corrupt("Shamir: share has the wrong number of chunks");
    for (uint64_t v : s.values) {
      if (v >= kP) return Corrupt("Shamir: share value outside the field");
    }
    auto [it, inserted] = distinct.emplace(s.index, &s);
    if (!inserted && it->second->values != s.values) {
      return Corrupt("Shamir: two different shares claim index " + std::to_string(s.index));
    }
  }
  if (distinct.size() < t) {
    return Aborted("Shamir: " + std::to_string(distinct.size()) + " shares, " + std::to_string(t) +
                   " needed");
  }
  std::vector<uint64_t> xs;
  std::vector<const Share*> base, extra;
  for (const auto& [index, share] : distinct) {
    if (base.size() < t) {
      base.push_back(share);
      xs.push_back(index);
    } else {
      extra.push_back(share);
    }
  }
  // Every extra share must lie on the polynomials defined by the first t.
  for (const Share* e : extra) {
    const std::vector<uint64_t> l = LagrangeAt(xs, e->index);
    for (size_t c = 0; c < chunks; ++c) {
      uint64_t y = 0;
      for (size_t i = 0; i < t; ++i) y = Add(y, Mul(l[i], base[i]->values[c]));
      if (y != e->values[c]) return Corrupt("Shamir: shares are inconsistent (tampered share?)");
    }
  }
  const std::vector<uint64_t> l0 = LagrangeAt(xs, 0);
  SecretBuffer out(secret_len);
  for (size_t c = 0; c < chunks; ++c) {
    uint64_t v = 0;
    for (size_t i = 0; i < t; ++i) v = Add(v, Mul(l0[i], base[i]->values[c]));
    const size_t len = ChunkLen(secret_len, c);
    if (len < 8 && (v >> (8 * len)) != 0) {
      SecureZero(&v, sizeof(v));
      return Corrupt("Shamir: reconstructed value out of range (tampered share?)");
    }
    for (size_t b = 0; b < len; ++b) {
      out.data()[c * kShamirChunkBytes + b] = static_cast<uint8_t>(v >> (8 * b));
    }
    SecureZero(&v, sizeof(v));
  }
  return out;
}

Bytes SerializeShare(const Share& share) {
  Bytes out(4 + 8 * share.values.size());
  for (int b = 0; b < 4; ++b) out[b] = static_cast<uint8_t>(share.index >> (8 * b));
  for (size_t c = 0; c < share.values.size(); ++c) {
    for (int b = 0; b < 8; ++b) {
      out[4 + 8 * c + b] = static_cast<uint8_t>(share.values[c] >> (8 * b));
    }
  }
  return out;
}

Result<Share> ParseShare(const uint8_t* data, size_t size, size_t expected_chunks) {
  if (size != 4 + 8 * expected_chunks) return Corrupt("Shamir: share has the wrong size");
  Share s;
  for (int b = 0; b < 4; ++b) s.index |= static_cast<uint32_t>(data[b]) << (8 * b);
  s.values.assign(expected_chunks, 0);
  for (size_t c = 0; c < expected_chunks; ++c) {
    for (int b = 0; b < 8; ++b) {
      s.values[c] |= static_cast<uint64_t>(data[4 + 8 * c + b]) << (8 * b);
    }
    if (s.values[c] >= kP) return Corrupt("Shamir: share value outside the field");
  }
  if (s.index == 0 || s.index > kShamirMaxShares)
    return Corrupt("Shamir: share index out of range");
  return s;
}

}  // namespace fedsmear::secagg
