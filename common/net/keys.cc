// CurveZMQ key generation, key files and the allowlist parser.
#include "common/net/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "common/file_util.h"
#include "common/wire/messages.h"

namespace fedsmear {
namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
constexpr uint64_t kMaxKeyFileBytes = 64 * 1024;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Calls fn(line_number, content) for each line that is neither blank nor a comment (first
// non-blank character '#'). '#' elsewhere is data: it belongs to the Z85 alphabet.
template <typename Fn>
Status ForEachLine(std::string_view text, Fn fn) {
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.front() != '#') RETURN_IF_ERROR(fn(line_no, line));
  }
  return Status::Ok();
}

// Splits at runs of blanks.
std::vector<std::string_view> Tokens(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// Parses "name = value" lines of a key file into a map.
Result<std::map<std::string, std::string>> ParseKeyFile(std::string_view text,
                                                        const std::string& path) {
  std::map<std::string, std::string> fields;
  Status st = ForEachLine(text, [&](int line_no, std::string_view line) -> Status {
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      // A bare key (e.g. pasted from `fedsmear keygen` output) counts as the public key.
      if (line.size() == kZ85KeyLength) {
        fields.emplace("public-key", std::string(line));
        return Status::Ok();
      }
      return InvalidArgument(path + ":" + std::to_string(line_no) + ": expected 'name = value'");
    }
    std::string name(Trim(line.substr(0, eq)));
    if (!fields.emplace(name, std::string(Trim(line.substr(eq + 1)))).second) {
      return InvalidArgument(path + ":" + std::to_string(line_no) + ": duplicate '" + name + "'");
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return fields;
}

// Creates `path` exclusively with `mode`, writes, fsyncs; then links or renames it to `final`.
Status WriteNewFile(const std::string& path, std::string_view bytes, mode_t mode, bool overwrite) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return IoError("cannot create " + tmp + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0;  // umask must not widen or narrow what we asked for
  size_t done = 0;
  while (ok && done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return IoError("cannot write " + tmp + ": " + std::strerror(saved_errno));
  }
  // link() refuses to replace an existing file, so two keygens cannot clobber each other.
  const int rc =
      overwrite ? ::rename(tmp.c_str(), path.c_str()) : ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  if (!overwrite || rc != 0) ::unlink(tmp.c_str());
  if (rc != 0) {
    if (link_errno == EEXIST) return FailedPrecondition(path + " already exists");
    return IoError("cannot create " + path + ": " + std::strerror(link_errno));
  }
  return Status::Ok();
}

}  // namespace

bool CurveAvailable() { return zmq_has("curve") != 0; }

KeyPair GenerateKeyPair() {
  char pub[kZ85KeyLength + 1] = {};
  char sec[kZ85KeyLength + 1] = {};
  if (zmq_curve_keypair(pub, sec) != 0) {
    std::fprintf(stderr, "fedsmear: libzmq was built without CURVE support: %s\n",
                 zmq_strerror(zmq_errno()));
    std::abort();
  }
  KeyPair keys{std::string(pub, kZ85KeyLength), std::string(sec, kZ85KeyLength)};
  std::memset(sec, 0, sizeof(sec));  // do not leave the secret on the stack
  return keys;
}

Status ValidateZ85Key(std::string_view key, const std::string& what) {
  if (key.size() != kZ85KeyLength) {
    return InvalidArgument(what + " must be " + std::to_string(kZ85KeyLength) +
                           " Z85 characters, got " + std::to_string(key.size()));
  }
  for (char c : key) {
    if (kZ85Alphabet.find(c) == std::string_view::npos) {
      return InvalidArgument(what + " contains '" + std::string(1, c) +
                             "', which is not in the Z85 alphabet");
    }
  }
  return Status::Ok();
}

Result<std::string> DerivePublicKey(const std::string& secret_key_z85) {
  RETURN_IF_ERROR(ValidateZ85Key(secret_key_z85, "secret key"));
  char pub[kZ85KeyLength + 1] = {};
  if (zmq_curve_public(pub, secret_key_z85.c_str()) != 0) {
    return InvalidArgument(std::string("cannot derive public key: ") + zmq_strerror(zmq_errno()));
  }
  return std::string(pub, kZ85KeyLength);
}

std::string KeyPrefix(std::string_view key_z85) {
  return std::string(key_z85.substr(0, 8)) + "...";
}

std::string Z85EncodeKey(std::string_view binary32) {
  if (binary32.size() != 32) return "<" + std::to_string(binary32.size()) + "-byte key>";
  char out[kZ85KeyLength + 1] = {};
  zmq_z85_encode(out, reinterpret_cast<const uint8_t*>(binary32.data()), binary32.size());
  return std::string(out, kZ85KeyLength);
}

namespace {

// Writes DIR/NAME<secret_ext> (0600: header, secret warning, `public_line`, `secret_line`) and
// DIR/NAME<public_ext> (0644: header, `public_line`); without `overwrite`, touches neither when
// one exists.
Status WriteKeyFiles(const std::string& dir, const std::string& name, const std::string& secret_ext,
                     const std::string& public_ext, const std::string& header,
                     const std::string& public_line, const std::string& secret_line,
                     bool overwrite) {
  if (!wire::IsValidSiteId(name)) {
    return InvalidArgument("key name '" + name + "' must be 1-128 characters of [A-Za-z0-9._-]");
  }
  const std::string key_path = (std::filesystem::path(dir) / (name + secret_ext)).string();
  const std::string pub_path = (std::filesystem::path(dir) / (name + public_ext)).string();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create directory " + dir + ": " + ec.message());
  if (!overwrite) {
    for (const auto& p : {key_path, pub_path}) {
      if (std::filesystem::exists(p, ec)) {
        return FailedPrecondition(p + " already exists (use --force to replace it)");
      }
    }
  }
  RETURN_IF_ERROR(WriteNewFile(key_path,
                               header + "# SECRET: keep this file private (mode 0600)\n" +
                                   public_line + secret_line,
                               0600, overwrite));
  return WriteNewFile(pub_path, header + public_line, 0644, overwrite);
}

}  // namespace

Status WriteKeyPairFiles(const KeyPair& keys, const std::string& dir, const std::string& name,
                         bool overwrite) {
  RETURN_IF_ERROR(ValidateZ85Key(keys.public_key, "public key"));
  RETURN_IF_ERROR(ValidateZ85Key(keys.secret_key, "secret key"));
  return WriteKeyFiles(dir, name, ".key", ".pub", "# fedsmear CurveZMQ key '" + name + "'\n",
                       "public-key = " + keys.public_key + "\n",
                       "secret-key = " + keys.secret_key + "\n", overwrite);
}

Result<KeyPair> LoadSecretKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxKeyFileBytes));
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return PermissionDenied(path + ": secret key file is readable by group/others; chmod 600 it");
  }
  ASSIGN_OR_RETURN(auto fields, ParseKeyFile(text, path));
  auto sec = fields.find("secret-key");
  if (sec == fields.end()) return InvalidArgument(path + ": no 'secret-key' line");
  RETURN_IF_ERROR(ValidateZ85Key(sec->second, path + ": secret-key"));
  ASSIGN_OR_RETURN(std::string derived, DerivePublicKey(sec->second));
  auto pub = fields.find("public-key");
  if (pub != fields.end()) {
    RETURN_IF_ERROR(ValidateZ85Key(pub->second, path + ": public-key"));
    if (pub->second != derived) {
      return InvalidArgument(path + ": public-key does not belong to secret-key");
    }
  }
  return KeyPair{derived, sec->second};
}

Result<std::string> LoadPublicKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxKeyFileBytes));
  ASSIGN_OR_RETURN(auto fields, ParseKeyFile(text, path));
  auto pub = fields.find("public-key");
  if (pub == fields.end()) return InvalidArgument(path + ": no 'public-key' line");
  RETURN_IF_ERROR(ValidateZ85Key(pub->second, path + ": public-key"));
  return pub->second;
}

Status ValidateHexKey(std::string_view key, const std::string& what) {
  if (key.size() != kHexKeyLength) {
    return InvalidArgument(what + " must be " + std::to_string(kHexKeyLength) +
                           " hex characters, got " + std::to_string(key.size()));
  }
  for (char c : key) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return InvalidArgument(what + " contains '" + std::string(1, c) + "', which is not hex");
    }
  }
  return Status::Ok();
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

Result<std::string> HexDecodeKey(std::string_view hex, const std::string& what) {
  RETURN_IF_ERROR(ValidateHexKey(hex, what));
  auto nibble = [](char c) {
    return std::isdigit(static_cast<unsigned char>(c))
               ? c - '0'
               : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(nibble(hex[2 * i]) * 16 + nibble(hex[2 * i + 1]));
  }
  return out;
}

Status WriteSigningKeyFiles(const SigningKeyHex& keys, const std::string& dir,
                            const std::string& name, bool overwrite) {
  RETURN_IF_ERROR(ValidateHexKey(keys.public_key, "signing public key"));
  RETURN_IF_ERROR(ValidateHexKey(keys.secret_seed, "signing secret key"));
  return WriteKeyFiles(dir, name, ".sign.key", ".sign.pub",
                       "# fedsmear Ed25519 signing key '" + name + "' (secure aggregation)\n",
                       "ed25519-public-key = " + keys.public_key + "\n",
                       "ed25519-secret-key = " + keys.secret_seed + "\n", overwrite);
}

Result<SigningKeyHex> LoadSigningKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxKeyFileBytes));
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return PermissionDenied(path + ": signing key file is readable by group/others; chmod 600 it");
  }
  ASSIGN_OR_RETURN(auto fields, ParseKeyFile(text, path));
  auto pub = fields.find("ed25519-public-key");
  auto sec = fields.find("ed25519-secret-key");
  if (pub == fields.end() || sec == fields.end()) {
    return InvalidArgument(path + ": needs 'ed25519-public-key' and 'ed25519-secret-key' lines");
  }
  RETURN_IF_ERROR(ValidateHexKey(pub->second, path + ": ed25519-public-key"));
  RETURN_IF_ERROR(ValidateHexKey(sec->second, path + ": ed25519-secret-key"));
  return SigningKeyHex{pub->second, sec->second};
}

Result<std::string> LoadSigningPublicKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxKeyFileBytes));
  ASSIGN_OR_RETURN(auto fields, ParseKeyFile(text, path));
  auto pub = fields.find("ed25519-public-key");
  if (pub == fields.end()) return InvalidArgument(path + ": no 'ed25519-public-key' line");
  RETURN_IF_ERROR(ValidateHexKey(pub->second, path + ": ed25519-public-key"));
  return pub->second;
}

Result<std::vector<AllowedSite>> ParseAllowedSites(std::string_view text,
                                                   const std::string& origin) {
  std::vector<AllowedSite> sites;
  std::set<std::string> ids;
  std::set<std::string> keys;
  std::set<std::string> sign_keys;
  Status st = ForEachLine(text, [&](int line_no, std::string_view line) -> Status {
    const std::string where = origin + ":" + std::to_string(line_no) + ": ";
    // "site-id key [sign-key] [# comment]"; the key itself may contain '#', hex never does.
    const auto tokens = Tokens(line);
    const bool has_sign = tokens.size() > 2 && tokens[2].front() != '#';
    const size_t rest = has_sign ? 3 : 2;
    if (tokens.size() < 2 || (tokens.size() > rest && tokens[rest].front() != '#')) {
      return InvalidArgument(where + "expected 'site-id public-key [sign-public-key] [# comment]'");
    }
    AllowedSite site{std::string(tokens[0]), std::string(tokens[1]), ""};
    if (has_sign) {
      RETURN_IF_ERROR(ValidateHexKey(tokens[2], where + "signing key of " + site.site_id));
      ASSIGN_OR_RETURN(std::string raw, HexDecodeKey(tokens[2], "signing key"));
      site.sign_public_key = HexEncode(raw);  // canonical lowercase
    }
    if (!wire::IsValidSiteId(site.site_id)) {
      return InvalidArgument(where + "site id '" + site.site_id + "' is not valid");
    }
    RETURN_IF_ERROR(ValidateZ85Key(site.public_key, where + "key of " + site.site_id));
    if (!ids.insert(site.site_id).second) {
      return InvalidArgument(where + "site id '" + site.site_id + "' appears twice");
    }
    if (!keys.insert(site.public_key).second) {
      return InvalidArgument(where + "the key of '" + site.site_id + "' is already listed");
    }
    // One signing key for two ids would let one party hold two shares of every secret.
    if (!site.sign_public_key.empty() && !sign_keys.insert(site.sign_public_key).second) {
      return InvalidArgument(where + "the signing key of '" + site.site_id +
                             "' is already listed for another site");
    }
    sites.push_back(std::move(site));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return sites;
}

Result<std::vector<AllowedSite>> LoadAllowedSites(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, uint64_t{16} << 20));
  return ParseAllowedSites(text, path);
}

Result<SigningRoster> ParseSigningRoster(std::string_view text, const std::string& origin) {
  SigningRoster roster;
  std::set<std::string> keys;
  Status st = ForEachLine(text, [&](int line_no, std::string_view line) -> Status {
    const std::string where = origin + ":" + std::to_string(line_no) + ": ";
    auto tokens = Tokens(line);
    for (size_t i = 2; i < tokens.size(); ++i) {
      if (tokens[i].front() == '#') {  // a comment after the keys (a Z85 key may start with '#')
        tokens.resize(i);
        break;
      }
    }
    if (tokens.size() != 2 && tokens.size() != 3) {
      return InvalidArgument(where +
                             "expected 'site-id ed25519-public-key' or an allowlist line "
                             "'site-id curve-public-key ed25519-public-key'");
    }
    const std::string id(tokens[0]);
    if (!wire::IsValidSiteId(id)) return InvalidArgument(where + "site id '" + id + "' is not valid");
    RETURN_IF_ERROR(ValidateHexKey(tokens.back(), where + "signing key of " + id));
    ASSIGN_OR_RETURN(std::string raw, HexDecodeKey(tokens.back(), "signing key"));
    if (!roster.emplace(id, raw).second) {
      return InvalidArgument(where + "site id '" + id + "' appears twice");
    }
    if (!keys.insert(raw).second) {
      return InvalidArgument(where + "the signing key of '" + id +
                             "' is already listed for another site");
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (roster.empty()) return InvalidArgument(origin + ": the roster lists no site");
  return roster;
}

Result<SigningRoster> LoadSigningRoster(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, uint64_t{16} << 20));
  return ParseSigningRoster(text, path);
}

}  // namespace fedsmear
