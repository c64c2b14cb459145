// CurveZMQ key material: key pairs, key files and the coordinator's site allowlist.
//
// Keys are 32-byte Curve25519 keys in Z85 text (40 characters). A secret key file holds the
// public and the secret key ("public-key = ..." / "secret-key = ..." lines, mode 0600); a public
// key file holds only the public key. Loaders validate length, the Z85 alphabet and (for secret
// files) that the public key belongs to the secret key, and name the file and line on error.
//
// The allowlist (`allowed_sites` file) has one "site-id public-key-z85 [sign-key-hex] [# comment]"
// per line; blank lines and lines starting with '#' are ignored ('#' is also a Z85 character, so a
// comment after the key must be separated by a blank); duplicate site ids or keys are errors. The
// optional third column is the site's Ed25519 identity key for secure aggregation (64 hex
// characters); two-column lines stay valid (such a site cannot join a secagg+ round).
//
// Signing keys (secure aggregation identity): NAME.sign.key (mode 0600) holds
// "ed25519-public-key = HEX" and "ed25519-secret-key = HEX" (the 32-byte seed), NAME.sign.pub
// the public line only. This file only checks the hex format; the owner of the key derives the
// public key from the seed (secagg::Ed25519KeyPair) and compares.
//
// Thread-safety: reentrant free functions over values. Ownership: plain values.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace fedsmear {

inline constexpr size_t kZ85KeyLength = 40;

struct KeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

// True when libzmq was built with CURVE (libsodium or tweetnacl).
bool CurveAvailable();

// A fresh random key pair. Aborts with a message if libzmq has no CURVE support, which is a
// build/deployment defect rather than a runtime condition (see CurveAvailable()).
KeyPair GenerateKeyPair();

// OK when `key` is 40 characters of the Z85 alphabet; `what` names it in the error.
Status ValidateZ85Key(std::string_view key, const std::string& what);

// The public key belonging to a Z85 secret key.
Result<std::string> DerivePublicKey(const std::string& secret_key_z85);

// First characters of a key, safe to log.
std::string KeyPrefix(std::string_view key_z85);

// Z85 text of a 32-byte binary key (as found in ZAP requests).
std::string Z85EncodeKey(std::string_view binary32);

// Writes DIR/NAME.key (mode 0600, public+secret) and DIR/NAME.pub. Without `overwrite`, fails with
// kFailedPrecondition if either exists; the secret file never exists with wider permissions.
Status WriteKeyPairFiles(const KeyPair& keys, const std::string& dir, const std::string& name,
                         bool overwrite);

// Loads a secret key file (public+secret). kPermissionDenied when group/others may read it.
Result<KeyPair> LoadSecretKeyFile(const std::string& path);
// Loads the public key from a public key file (or from a secret key file's public-key line).
Result<std::string> LoadPublicKeyFile(const std::string& path);

struct AllowedSite {
  std::string site_id;
  std::string public_key;       // Z85
  std::string sign_public_key;  // 64 lowercase hex characters (Ed25519), or "" when absent
};

inline constexpr size_t kHexKeyLength = 64;

// OK when `key` is 64 hex characters; `what` names it in the error.
Status ValidateHexKey(std::string_view key, const std::string& what);
// Lowercase hex of bytes, and the 32 raw bytes of a 64-character hex key.
std::string HexEncode(std::string_view bytes);
Result<std::string> HexDecodeKey(std::string_view hex, const std::string& what);

struct SigningKeyHex {
  std::string public_key;   // hex, Ed25519 public key
  std::string secret_seed;  // hex, Ed25519 private seed
};
// Writes DIR/NAME.sign.key (0600) and DIR/NAME.sign.pub; `overwrite` as in WriteKeyPairFiles.
Status WriteSigningKeyFiles(const SigningKeyHex& keys, const std::string& dir,
                            const std::string& name, bool overwrite);
// kPermissionDenied when group/others may read the file.
Result<SigningKeyHex> LoadSigningKeyFile(const std::string& path);
// The public key of a NAME.sign.pub (or NAME.sign.key) file, hex.
Result<std::string> LoadSigningPublicKeyFile(const std::string& path);

Result<std::vector<AllowedSite>> ParseAllowedSites(std::string_view text,
                                                   const std::string& origin = "allowed_sites");
Result<std::vector<AllowedSite>> LoadAllowedSites(const std::string& path);

// Consortium roster (docs/security.md): the Ed25519 keys of all member sites, installed at every
// site from a source the coordinator cannot forge. One "site-id ed25519-public-key-hex" per line,
// or an allowlist line "site-id curve-key ed25519-key" (so one file can serve both); '#' comments.
// Duplicate ids or keys are errors. Maps site id -> the 32 raw key bytes.
using SigningRoster = std::map<std::string, std::string>;
Result<SigningRoster> ParseSigningRoster(std::string_view text,
                                         const std::string& origin = "roster");
Result<SigningRoster> LoadSigningRoster(const std::string& path);

}  // namespace fedsmear
