// The Ed25519 key that signs a party's audit log (common/governance/audit_log.h), and signature
// checks for `fedsmear audit verify`.
//
// The key is the party's NAME.sign.key (common/net/keys.h: "ed25519-public-key = HEX" and
// "ed25519-secret-key = HEX", the 32-byte seed): a site's is the same identity key it uses for
// secure aggregation. Keys and signatures travel as lowercase hex (64 and 128 characters).
// An audit signature is over "fedsmear-audit-entry-v2\n" followed by the entry's canonical JSON
// without its "sig" member, so it cannot be replayed as a SecAgg+ signature or vice versa.
//
// Thread-safety: an AuditSigner may be used from one thread at a time; AuditVerify is reentrant.
// Ownership: AuditSigner is move-only and owns its EVP_PKEY (freed on destruction).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

struct evp_pkey_st;

namespace fedsmear {

inline constexpr std::string_view kAuditSignContext = "fedsmear-audit-entry-v2\n";

class AuditSigner {
 public:
  // From the 32-byte seed (raw bytes). Errors: wrong size, OpenSSL failure.
  static Result<AuditSigner> FromSeed(std::string_view seed);
  // A fresh random key (tests and tools).
  static Result<AuditSigner> Generate();

  // Hex of the 32-byte public key.
  const std::string& public_hex() const { return public_hex_; }
  // Hex of the 64-byte signature of kAuditSignContext + `message`.
  Result<std::string> Sign(std::string_view message) const;

 private:
  struct PkeyFree {
    void operator()(evp_pkey_st* p) const;
  };
  using Pkey = std::unique_ptr<evp_pkey_st, PkeyFree>;
  AuditSigner(Pkey key, std::string public_hex)
      : key_(std::move(key)), public_hex_(std::move(public_hex)) {}
  static Result<AuditSigner> FromKey(Pkey key);

  Pkey key_;
  std::string public_hex_;
};

// Loads a NAME.sign.key file (mode 0600; group/other-readable files are refused) and checks that
// its public line belongs to its seed.
Result<AuditSigner> LoadAuditSigner(const std::string& path);

// A public key for `fedsmear audit verify --key`: 64 hex characters, or a NAME.sign.pub (or
// NAME.sign.key) file. Returns the lowercase hex.
Result<std::string> LoadAuditPublicKey(const std::string& hex_or_path);

// OK iff `signature_hex` is a valid signature of kAuditSignContext + `message` under
// `public_hex`; kPermissionDenied for a bad signature or a malformed key or signature.
Status AuditVerify(const std::string& public_hex, std::string_view message,
                   const std::string& signature_hex);

}  // namespace fedsmear
