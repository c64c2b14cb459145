// AES-256-CTR pseudo-random generator: expands a 32-byte seed into mask words.
//
// What: the keystream of AES-256-CTR under key = seed and a 16-byte initial counter block (zero
// by default; OpenSSL increments it as one 128-bit big-endian integer). Words are read from the
// keystream in little-endian byte order, so masks are identical on every host. The stream is
// produced in 64 KiB blocks straight from OpenSSL's AES-NI path, and AddMask fuses generation
// with the modular add so a 4.5M-word vector is touched once per seed.
// Thread-safety: an AesCtrPrg is single-threaded; the free functions are thread-safe.
// Ownership: AesCtrPrg owns its EVP_CIPHER_CTX (move-only).
// Security notes: each seed must key at most one stream (one mask); seeds are never reused
// across rounds because every round draws fresh keys. Scratch keystream is wiped after use.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/status.h"
#include "secagg/crypto.h"

namespace fedsmear::secagg {

class AesCtrPrg {
 public:
  static Result<AesCtrPrg> Create(const Secret32& seed, const std::array<uint8_t, 16>& iv = {});

  AesCtrPrg(AesCtrPrg&&) noexcept = default;
  AesCtrPrg& operator=(AesCtrPrg&&) noexcept = default;

  // Writes the next `size` keystream bytes to `out`.
  Status Fill(uint8_t* out, size_t size);
  // Next `count` words (little-endian).
  Status FillWords32(uint32_t* out, size_t count);
  Status FillWords64(uint64_t* out, size_t count);

 private:
  explicit AesCtrPrg(CipherCtxPtr ctx) : ctx_(std::move(ctx)) {}
  CipherCtxPtr ctx_;
  std::vector<uint8_t> zeros_;  // plaintext block fed to the cipher
};

// The first `count` 32-bit words of PRG(seed).
Result<std::vector<uint32_t>> ExpandSeed32(const Secret32& seed, size_t count);
Result<std::vector<uint64_t>> ExpandSeed64(const Secret32& seed, size_t count);

// data[i] = data[i] + PRG(seed)[i] (or - when `subtract`) mod 2^32, for i < count. Reduce to a
// smaller modulus 2^bits afterwards with ReduceMod; 2^bits divides 2^32 so this is exact.
Status AddMask(const Secret32& seed, bool subtract, uint32_t* data, size_t count);

// data[i] &= 2^bits - 1 (bits in 1..32).
void ReduceMod(uint32_t bits, uint32_t* data, size_t count);

}  // namespace fedsmear::secagg
