#include "secagg/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <iterator>
#include <string>

namespace fedsmear::secagg {

void SecureZero(void* data, size_t size) { OPENSSL_cleanse(data, size); }

void PkeyDeleter::operator()(evp_pkey_st* p) const { EVP_PKEY_free(p); }
void PkeyCtxDeleter::operator()(evp_pkey_ctx_st* p) const { EVP_PKEY_CTX_free(p); }
void CipherCtxDeleter::operator()(evp_cipher_ctx_st* p) const { EVP_CIPHER_CTX_free(p); }
void MdCtxDeleter::operator()(evp_md_ctx_st* p) const { EVP_MD_CTX_free(p); }
void KdfDeleter::operator()(evp_kdf_st* p) const { EVP_KDF_free(p); }
void KdfCtxDeleter::operator()(evp_kdf_ctx_st* p) const { EVP_KDF_CTX_free(p); }

namespace {

// Internal error carrying OpenSSL's last queued error, which is cleared.
Status OpenSslError(const std::string& what) {
  unsigned long code = ERR_get_error();  // NOLINT(runtime/int): OpenSSL API type
  std::string detail = "unknown";
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    detail = buf;
  }
  ERR_clear_error();
  return Internal("OpenSSL " + what + ": " + detail);
}

Result<PkeyPtr> GenerateKey(int type, const char* name) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(type, nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1)
    return OpenSslError(std::string(name) + " keygen init");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_keygen(ctx.get(), &raw) != 1) return OpenSslError(std::string(name) + " keygen");
  return PkeyPtr(raw);
}

Result<PublicKey32> RawPublic(const PkeyPtr& key) {
  PublicKey32 pub{};
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len) != 1 || len != pub.size()) {
    return OpenSslError("raw public key");
  }
  return pub;
}

Result<PkeyPtr> FromRawPrivate(int type, const Secret32& priv) {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(type, nullptr, priv.data(), priv.size()));
  if (!key) return OpenSslError("raw private key import");
  return key;
}

}  // namespace

Status RandomBytes(uint8_t* out, size_t size) {
  while (size > 0) {
    const int chunk = size > (1u << 30) ? (1 << 30) : static_cast<int>(size);
    if (RAND_priv_bytes(out, chunk) != 1) return OpenSslError("RAND_priv_bytes");
    out += chunk;
    size -= static_cast<size_t>(chunk);
  }
  return Status::Ok();
}

Result<Secret32> RandomSecret32() {
  Secret32 s;
  RETURN_IF_ERROR(RandomBytes(s.data(), s.size()));
  return s;
}

// ---- X25519 ----

Result<X25519KeyPair> X25519KeyPair::Generate() {
  ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey(EVP_PKEY_X25519, "X25519"));
  ASSIGN_OR_RETURN(PublicKey32 pub, RawPublic(key));
  return X25519KeyPair(std::move(key), pub);
}

Result<X25519KeyPair> X25519KeyPair::FromPrivate(const Secret32& private_key) {
  ASSIGN_OR_RETURN(PkeyPtr key, FromRawPrivate(EVP_PKEY_X25519, private_key));
  ASSIGN_OR_RETURN(PublicKey32 pub, RawPublic(key));
  return X25519KeyPair(std::move(key), pub);
}

Result<Secret32> X25519KeyPair::private_key() const {
  Secret32 out;
  size_t len = out.size();
  if (EVP_PKEY_get_raw_private_key(key_.get(), out.data(), &len) != 1 || len != out.size()) {
    return OpenSslError("X25519 private key export");
  }
  return out;
}

Result<Secret32> X25519KeyPair::Agree(const PublicKey32& peer) const {
  PkeyPtr peer_key(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), peer.size()));
  if (!peer_key) return Corrupt("X25519 peer public key is malformed");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) return OpenSslError("X25519 derive init");
  if (EVP_PKEY_derive_set_peer(ctx.get(), peer_key.get()) != 1) {
    ERR_clear_error();
    return Corrupt("X25519 peer public key rejected");
  }
  Secret32 out;
  size_t len = out.size();
  if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    // OpenSSL refuses all-zero shared secrets (small-order points).
    ERR_clear_error();
    return Corrupt("X25519 agreement failed (small-order peer key?)");
  }
  return out;
}

Status CheckX25519PublicKey(const PublicKey32& public_key) {
  // u-coordinates (little-endian, reduced mod p = 2^255 - 19) of the points of order 1, 2, 4
  // and 8: 0, 1, p - 1 and the two of order 8.
  static constexpr uint8_t kSmallOrder[5][32] = {
      {0},
      {1},
      {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0x7f},
      {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
       0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
       0xb8, 0x00},
      {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
       0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
       0x11, 0x57},
  };
  PublicKey32 u = public_key;
  u[31] &= 0x7f;  // RFC 7748: the top bit is ignored
  // Values p .. 2^255 - 1 (byte 0 >= 0xed, bytes 1..30 = 0xff, byte 31 = 0x7f) reduce to 0 .. 18.
  bool at_least_p = u[31] == 0x7f && u[0] >= 0xed;
  for (size_t i = 1; i < 31 && at_least_p; ++i) at_least_p = u[i] == 0xff;
  if (at_least_p) {
    const auto low = static_cast<uint8_t>(u[0] - 0xed);
    u.fill(0);
    u[0] = low;
  }
  for (const auto& bad : kSmallOrder) {
    if (std::equal(u.begin(), u.end(), std::begin(bad))) {
      return PermissionDenied("X25519 public key is a small-order point");
    }
  }
  return Status::Ok();
}

// ---- Ed25519 ----

Result<Ed25519KeyPair> Ed25519KeyPair::Generate() {
  ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey(EVP_PKEY_ED25519, "Ed25519"));
  ASSIGN_OR_RETURN(PublicKey32 pub, RawPublic(key));
  return Ed25519KeyPair(std::move(key), pub);
}

Result<Ed25519KeyPair> Ed25519KeyPair::FromPrivate(const Secret32& seed) {
  ASSIGN_OR_RETURN(PkeyPtr key, FromRawPrivate(EVP_PKEY_ED25519, seed));
  ASSIGN_OR_RETURN(PublicKey32 pub, RawPublic(key));
  return Ed25519KeyPair(std::move(key), pub);
}

Result<Signature64> Ed25519KeyPair::Sign(const Bytes& message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1) {
    return OpenSslError("Ed25519 sign init");
  }
  Signature64 sig{};
  size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1 ||
      len != sig.size()) {
    return OpenSslError("Ed25519 sign");
  }
  return sig;
}

Status Ed25519Verify(const PublicKey32& public_key, const Bytes& message,
                     const Signature64& signature) {
  PkeyPtr key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  if (!key) {
    ERR_clear_error();
    return PermissionDenied("Ed25519 public key is malformed");
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return OpenSslError("Ed25519 verify init");
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                       message.size()) != 1) {
    ERR_clear_error();
    return PermissionDenied("Ed25519 signature does not verify");
  }
  return Status::Ok();
}

// ---- HKDF ----

Result<SecretBuffer> HkdfSha256(const uint8_t* ikm, size_t ikm_len, std::string_view salt,
                                const Bytes& info, size_t out_len) {
  KdfPtr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) return OpenSslError("HKDF fetch");
  KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return OpenSslError("HKDF ctx");
  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  int n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] =
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm), ikm_len);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                  const_cast<char*>(salt.data()), salt.size());
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                  const_cast<uint8_t*>(info.data()), info.size());
  params[n] = OSSL_PARAM_construct_end();
  SecretBuffer out(out_len);
  if (EVP_KDF_derive(ctx.get(), out.data(), out_len, params) != 1) {
    return OpenSslError("HKDF derive");
  }
  return out;
}

Result<Secret32> HkdfSha256Key(const Secret32& ikm, std::string_view salt, const Bytes& info) {
  ASSIGN_OR_RETURN(SecretBuffer buf, HkdfSha256(ikm.data(), ikm.size(), salt, info, 32));
  Secret32 out;
  for (size_t i = 0; i < 32; ++i) out.data()[i] = buf.data()[i];
  return out;
}

// ---- AES-256-GCM ----

Result<Bytes> AesGcmSeal(const Secret32& key, const Bytes& aad, const uint8_t* plaintext,
                         size_t plaintext_len) {
  if (plaintext_len > static_cast<size_t>(INT_MAX) || aad.size() > static_cast<size_t>(INT_MAX)) {
    return InvalidArgument("AES-GCM message too large");
  }
  Bytes out(kGcmNonceBytes + plaintext_len + kGcmTagBytes);
  RETURN_IF_ERROR(RandomBytes(out.data(), kGcmNonceBytes));
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), out.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data() + kGcmNonceBytes, &len, plaintext,
                        static_cast<int>(plaintext_len)) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + kGcmNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagBytes,
                          out.data() + kGcmNonceBytes + plaintext_len) != 1) {
    return OpenSslError("AES-GCM seal");
  }
  return out;
}

Result<SecretBuffer> AesGcmOpen(const Secret32& key, const Bytes& aad, const Bytes& sealed) {
  if (sealed.size() < kGcmNonceBytes + kGcmTagBytes) return Corrupt("AES-GCM message too short");
  if (sealed.size() > static_cast<size_t>(INT_MAX)) return Corrupt("AES-GCM message too large");
  const size_t ct_len = sealed.size() - kGcmNonceBytes - kGcmTagBytes;
  SecretBuffer plain(ct_len);
  Bytes tag(sealed.end() - kGcmTagBytes, sealed.end());
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), sealed.data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), plain.data(), &len, sealed.data() + kGcmNonceBytes,
                        static_cast<int>(ct_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagBytes, tag.data()) != 1) {
    return OpenSslError("AES-GCM open");
  }
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), plain.data() + len, &final_len) != 1) {
    ERR_clear_error();
    return Corrupt("AES-GCM authentication failed (tampered ciphertext or wrong key)");
  }
  return plain;
}

}  // namespace fedsmear::secagg
