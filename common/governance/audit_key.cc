#include "common/governance/audit_key.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <cstring>
#include <string>

#include "common/net/keys.h"
#include "common/sha256.h"

namespace fedsmear {
namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
struct PublicKeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PublicKey = std::unique_ptr<EVP_PKEY, PublicKeyFree>;

Status OpenSslError(const std::string& what) {
  const unsigned long code = ERR_get_error();  // NOLINT(runtime/int): OpenSSL API type
  std::string detail = "unknown";
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    detail = buf;
  }
  ERR_clear_error();
  return Internal("OpenSSL " + what + ": " + detail);
}

std::string Framed(std::string_view message) {
  std::string framed(kAuditSignContext);
  framed.append(message);
  return framed;
}

// The raw bytes of `hex` when it is exactly `bytes` bytes of hex, else "".
std::string FromHex(const std::string& hex, size_t bytes) {
  if (hex.size() != 2 * bytes) return "";
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      const char c = hex[2 * i + static_cast<size_t>(k)];
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                           : -1;
      if (d < 0) return "";
      v = v * 16 + d;
    }
    out[i] = static_cast<char>(v);
  }
  return out;
}

}  // namespace

void AuditSigner::PkeyFree::operator()(evp_pkey_st* p) const { EVP_PKEY_free(p); }

Result<AuditSigner> AuditSigner::FromKey(Pkey key) {
  std::array<uint8_t, 32> pub{};
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len) != 1 || len != pub.size()) {
    return OpenSslError("Ed25519 public key");
  }
  return AuditSigner(std::move(key), ToHex(pub.data(), pub.size()));
}

Result<AuditSigner> AuditSigner::FromSeed(std::string_view seed) {
  if (seed.size() != 32) return InvalidArgument("an Ed25519 seed is 32 bytes");
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                        reinterpret_cast<const uint8_t*>(seed.data()),
                                        seed.size()));
  if (!key) return OpenSslError("Ed25519 private key import");
  return FromKey(std::move(key));
}

Result<AuditSigner> AuditSigner::Generate() {
  struct CtxFree {
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
  };
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return OpenSslError("Ed25519 keygen");
  }
  return FromKey(Pkey(raw));
}

Result<std::string> AuditSigner::Sign(std::string_view message) const {
  const std::string framed = Framed(message);
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1) {
    return OpenSslError("Ed25519 sign init");
  }
  std::array<uint8_t, 64> sig{};
  size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), sig.data(), &len,
                     reinterpret_cast<const uint8_t*>(framed.data()), framed.size()) != 1 ||
      len != sig.size()) {
    return OpenSslError("Ed25519 sign");
  }
  return ToHex(sig.data(), sig.size());
}

Result<AuditSigner> LoadAuditSigner(const std::string& path) {
  ASSIGN_OR_RETURN(SigningKeyHex hex, LoadSigningKeyFile(path));
  std::string seed = FromHex(hex.secret_seed, 32);
  if (seed.empty()) return InvalidArgument(path + ": ed25519-secret-key is not 64 hex characters");
  Result<AuditSigner> signer = AuditSigner::FromSeed(seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  if (!signer.ok()) return signer.status();
  if (signer->public_hex() != hex.public_key) {
    return InvalidArgument(path + ": ed25519-public-key does not belong to ed25519-secret-key");
  }
  return signer;
}

Result<std::string> LoadAuditPublicKey(const std::string& hex_or_path) {
  std::string lower = hex_or_path;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!FromHex(lower, 32).empty()) return lower;
  ASSIGN_OR_RETURN(std::string hex, LoadSigningPublicKeyFile(hex_or_path));
  return hex;
}

Status AuditVerify(const std::string& public_hex, std::string_view message,
                   const std::string& signature_hex) {
  const std::string pub = FromHex(public_hex, 32);
  const std::string sig = FromHex(signature_hex, 64);
  if (pub.empty()) return PermissionDenied("the signer key is not 64 hex characters");
  if (sig.empty()) return PermissionDenied("the signature is not 128 hex characters");
  PublicKey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                       reinterpret_cast<const uint8_t*>(pub.data()), pub.size()));
  if (!key) {
    ERR_clear_error();
    return PermissionDenied("the signer key is not an Ed25519 public key");
  }
  const std::string framed = Framed(message);
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return OpenSslError("Ed25519 verify init");
  }
  if (EVP_DigestVerify(ctx.get(), reinterpret_cast<const uint8_t*>(sig.data()), sig.size(),
                       reinterpret_cast<const uint8_t*>(framed.data()), framed.size()) != 1) {
    ERR_clear_error();
    return PermissionDenied("the signature does not verify");
  }
  return Status::Ok();
}

}  // namespace fedsmear
