// OpenSSL 3 primitives for SecAgg+: X25519, Ed25519, HKDF-SHA256, AES-256-GCM, secure randomness.
//
// What: thin, Status-returning wrappers over the EVP interface. Every EVP_PKEY, EVP_PKEY_CTX,
// EVP_CIPHER_CTX, EVP_MD_CTX and EVP_KDF(_CTX) lives in a move-only unique_ptr holder (below), so
// no handle leaks on an early return.
// Thread-safety: free functions are thread-safe; a key-pair object is not meant to be shared
// across threads without external synchronisation (one Site or Server per thread).
// Ownership: key pairs own their EVP_PKEY. Secret material returned to callers is held in
// SecretArray/SecretBuffer, which wipe themselves (OPENSSL_cleanse) on destruction.
// Security notes: private keys are generated with RAND_priv_bytes-backed EVP keygen; AES-GCM
// nonces are 96-bit random values, which is safe here because every GCM key is derived for one
// site pair and round and seals at most two messages (one per direction). Verification failures
// return kPermissionDenied (signatures) or kCorrupt (GCM tag); callers must treat both as hostile
// input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/status.h"

struct evp_pkey_st;
struct evp_pkey_ctx_st;
struct evp_cipher_ctx_st;
struct evp_md_ctx_st;
struct evp_kdf_st;
struct evp_kdf_ctx_st;

namespace fedsmear::secagg {

using Bytes = std::vector<uint8_t>;
using PublicKey32 = std::array<uint8_t, 32>;
using Signature64 = std::array<uint8_t, 64>;

// Overwrites `size` bytes at `data` in a way the compiler may not elide (OPENSSL_cleanse).
void SecureZero(void* data, size_t size);

// Fixed-size secret bytes, wiped on destruction and on move-from.
template <size_t N>
class SecretArray {
 public:
  SecretArray() { bytes_.fill(0); }
  explicit SecretArray(const std::array<uint8_t, N>& bytes) : bytes_(bytes) {}
  SecretArray(const SecretArray&) = default;
  SecretArray& operator=(const SecretArray&) = default;
  SecretArray(SecretArray&& other) noexcept : bytes_(other.bytes_) { other.Wipe(); }
  SecretArray& operator=(SecretArray&& other) noexcept {
    if (this != &other) {
      bytes_ = other.bytes_;
      other.Wipe();
    }
    return *this;
  }
  ~SecretArray() { Wipe(); }

  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  static constexpr size_t size() { return N; }
  bool operator==(const SecretArray& o) const { return bytes_ == o.bytes_; }
  bool operator!=(const SecretArray& o) const { return !(*this == o); }

 private:
  void Wipe() { SecureZero(bytes_.data(), N); }
  std::array<uint8_t, N> bytes_;
};
using Secret32 = SecretArray<32>;

// Variable-size secret bytes, wiped on destruction.
class SecretBuffer {
 public:
  SecretBuffer() = default;
  explicit SecretBuffer(size_t size) : bytes_(size, 0) {}
  explicit SecretBuffer(Bytes bytes) : bytes_(std::move(bytes)) {}
  SecretBuffer(const SecretBuffer&) = default;
  SecretBuffer& operator=(const SecretBuffer& o) {
    if (this != &o) {
      Wipe();
      bytes_ = o.bytes_;
    }
    return *this;
  }
  SecretBuffer(SecretBuffer&& o) noexcept : bytes_(std::move(o.bytes_)) { o.bytes_.clear(); }
  SecretBuffer& operator=(SecretBuffer&& o) noexcept {
    if (this != &o) {
      Wipe();
      bytes_ = std::move(o.bytes_);
      o.bytes_.clear();
    }
    return *this;
  }
  ~SecretBuffer() { Wipe(); }

  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  const Bytes& bytes() const { return bytes_; }

 private:
  void Wipe() {
    if (!bytes_.empty()) SecureZero(bytes_.data(), bytes_.size());
  }
  Bytes bytes_;
};

// Move-only holders for OpenSSL handles.
struct PkeyDeleter {
  void operator()(evp_pkey_st* p) const;
};
struct PkeyCtxDeleter {
  void operator()(evp_pkey_ctx_st* p) const;
};
struct CipherCtxDeleter {
  void operator()(evp_cipher_ctx_st* p) const;
};
struct MdCtxDeleter {
  void operator()(evp_md_ctx_st* p) const;
};
struct KdfDeleter {
  void operator()(evp_kdf_st* p) const;
};
struct KdfCtxDeleter {
  void operator()(evp_kdf_ctx_st* p) const;
};
using PkeyPtr = std::unique_ptr<evp_pkey_st, PkeyDeleter>;
using PkeyCtxPtr = std::unique_ptr<evp_pkey_ctx_st, PkeyCtxDeleter>;
using CipherCtxPtr = std::unique_ptr<evp_cipher_ctx_st, CipherCtxDeleter>;
using MdCtxPtr = std::unique_ptr<evp_md_ctx_st, MdCtxDeleter>;
using KdfPtr = std::unique_ptr<evp_kdf_st, KdfDeleter>;
using KdfCtxPtr = std::unique_ptr<evp_kdf_ctx_st, KdfCtxDeleter>;

// Cryptographically secure random bytes (RAND_priv_bytes).
Status RandomBytes(uint8_t* out, size_t size);
Result<Secret32> RandomSecret32();

// X25519 Diffie-Hellman key pair.
class X25519KeyPair {
 public:
  static Result<X25519KeyPair> Generate();
  static Result<X25519KeyPair> FromPrivate(const Secret32& private_key);

  const PublicKey32& public_key() const { return public_key_; }
  Result<Secret32> private_key() const;
  // Raw X25519 shared secret with `peer`; rejects all-zero outputs (small-order peer keys).
  Result<Secret32> Agree(const PublicKey32& peer) const;

 private:
  X25519KeyPair(PkeyPtr key, const PublicKey32& pub) : key_(std::move(key)), public_key_(pub) {}
  PkeyPtr key_;
  PublicKey32 public_key_{};
};

// OK unless `public_key` encodes a point of small order on Curve25519 or its twist (the
// identity, orders 2, 4 and 8, in canonical or non-canonical form, with or without the ignored
// top bit): with such a key every agreement yields a value anyone can compute.
// kPermissionDenied otherwise. Constant-time is not needed: public keys are public.
Status CheckX25519PublicKey(const PublicKey32& public_key);

// Ed25519 signing key pair (a site's long-term identity key).
class Ed25519KeyPair {
 public:
  static Result<Ed25519KeyPair> Generate();
  static Result<Ed25519KeyPair> FromPrivate(const Secret32& seed);

  const PublicKey32& public_key() const { return public_key_; }
  Result<Signature64> Sign(const Bytes& message) const;

 private:
  Ed25519KeyPair(PkeyPtr key, const PublicKey32& pub) : key_(std::move(key)), public_key_(pub) {}
  PkeyPtr key_;
  PublicKey32 public_key_{};
};

// OK iff `signature` is a valid Ed25519 signature of `message` under `public_key`;
// kPermissionDenied otherwise.
Status Ed25519Verify(const PublicKey32& public_key, const Bytes& message,
                     const Signature64& signature);

// HKDF-SHA256 (RFC 5869), extract-and-expand, `out_len` bytes.
Result<SecretBuffer> HkdfSha256(const uint8_t* ikm, size_t ikm_len, std::string_view salt,
                                const Bytes& info, size_t out_len);
// 32-byte convenience form.
Result<Secret32> HkdfSha256Key(const Secret32& ikm, std::string_view salt, const Bytes& info);

// AES-256-GCM. Sealed layout: nonce (12) || ciphertext || tag (16).
inline constexpr size_t kGcmNonceBytes = 12;
inline constexpr size_t kGcmTagBytes = 16;
Result<Bytes> AesGcmSeal(const Secret32& key, const Bytes& aad, const uint8_t* plaintext,
                         size_t plaintext_len);
// kCorrupt when the tag, the associated data or the key do not match.
Result<SecretBuffer> AesGcmOpen(const Secret32& key, const Bytes& aad, const Bytes& sealed);

}  // namespace fedsmear::secagg
