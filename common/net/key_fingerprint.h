// Short fingerprints of public keys, to read back over the phone when a site enrols.
//
// A fingerprint is the first 80 bits of a SHA-256, written as 5 groups of 4 lowercase hex digits
// ("3f2a-91c0-77d1-0b4e-a2c9"). 80 bits make a second key with the same fingerprint cost about
// 2^80 hashes, far beyond anyone's means, while 20 digits can still be read aloud.
// - KeyFingerprint: of one CurveZMQ public key, SHA-256 of its 32 raw bytes. The coordinator's
//   fingerprint, which a site compares before pinning the key its kit carries.
// - SiteFingerprint: of a site's enrolment (common/net/keys.h AllowedSite), SHA-256 of
//   "fedsmear-site-v1", a NUL, the site id, a NUL, the 32 bytes of its CurveZMQ key and the 32
//   bytes of its Ed25519 key (none when absent). It covers everything the allowlist line
//   carries, so a swapped key or a line under another id gives another fingerprint.
//
// Thread-safety: reentrant free functions. Ownership: plain values.
#pragma once

#include <string>
#include <string_view>

#include "common/net/keys.h"
#include "common/status.h"

namespace fedsmear {

inline constexpr size_t kFingerprintBits = 80;

// InvalidArgument when the key is not 40 characters of Z85.
Result<std::string> KeyFingerprint(std::string_view public_key_z85);
// InvalidArgument when a key is malformed.
Result<std::string> SiteFingerprint(const AllowedSite& site);

// True when two fingerprints name the same digits, ignoring case, blanks and dashes (what a
// person types after hearing one read out). False when either has no digits.
bool FingerprintsMatch(std::string_view a, std::string_view b);

}  // namespace fedsmear
