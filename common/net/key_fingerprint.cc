// KeyFingerprint, SiteFingerprint (common/net/key_fingerprint.h).
#include "common/net/key_fingerprint.h"

#include <zmq.h>

#include <cctype>
#include <cstdint>

#include "common/sha256.h"

namespace fedsmear {
namespace {

Result<std::string> Z85DecodeKey(std::string_view z85, const std::string& what) {
  RETURN_IF_ERROR(ValidateZ85Key(z85, what));
  const std::string text(z85);  // zmq_z85_decode reads a NUL-terminated string
  uint8_t raw[32];
  if (zmq_z85_decode(raw, text.c_str()) == nullptr) {
    return InvalidArgument(what + " is not valid Z85");
  }
  return std::string(reinterpret_cast<const char*>(raw), sizeof(raw));
}

std::string Grouped(const Digest256& digest) {
  const std::string hex = ToHex(digest.data(), kFingerprintBits / 8);
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 4) {
    if (i > 0) out += '-';
    out += hex.substr(i, 4);
  }
  return out;
}

std::string Normalised(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == ' ' || c == '\t' || c == ':') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

Result<std::string> KeyFingerprint(std::string_view public_key_z85) {
  ASSIGN_OR_RETURN(std::string raw, Z85DecodeKey(public_key_z85, "public key"));
  return Grouped(Sha256Of(raw));
}

Result<std::string> SiteFingerprint(const AllowedSite& site) {
  ASSIGN_OR_RETURN(std::string curve, Z85DecodeKey(site.public_key, "key of " + site.site_id));
  std::string sign;
  if (!site.sign_public_key.empty()) {
    ASSIGN_OR_RETURN(sign, HexDecodeKey(site.sign_public_key, "signing key of " + site.site_id));
  }
  Sha256 h;
  h.Update(std::string_view("fedsmear-site-v1\0", 17));
  h.Update(site.site_id);
  h.Update(std::string_view("\0", 1));
  h.Update(curve);
  h.Update(sign);
  return Grouped(h.Final());
}

bool FingerprintsMatch(std::string_view a, std::string_view b) {
  const std::string x = Normalised(a);
  return !x.empty() && x == Normalised(b);
}

}  // namespace fedsmear
