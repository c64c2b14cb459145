#include "common/http/http_auth.h"

#include <openssl/crypto.h>

#include <cctype>

#include "common/sha256.h"

namespace fedsmear {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Calls f(key, value) for each '&'-separated pair of a query or form body (raw, undecoded).
template <class F>
void ForEachPair(std::string_view s, F f) {
  while (!s.empty()) {
    const size_t amp = s.find('&');
    std::string_view pair = s.substr(0, amp);
    const size_t eq = pair.find('=');
    f(pair.substr(0, eq), eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    s.remove_prefix(amp + 1);
  }
}

}  // namespace

bool TokenMatches(std::string_view expected, std::string_view given) {
  if (expected.empty()) return false;
  const Digest256 a = Sha256Of(expected);
  const Digest256 b = Sha256Of(given);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string BearerToken(std::string_view authorization) {
  authorization = Trim(authorization);
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return "";
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return "";
  }
  return std::string(Trim(authorization.substr(kScheme.size())));
}

std::string CookieValue(std::string_view cookie_header, std::string_view name) {
  while (!cookie_header.empty()) {
    const size_t semi = cookie_header.find(';');
    std::string_view item = Trim(cookie_header.substr(0, semi));
    const size_t eq = item.find('=');
    if (eq != std::string_view::npos && Trim(item.substr(0, eq)) == name) {
      return std::string(Trim(item.substr(eq + 1)));
    }
    if (semi == std::string_view::npos) break;
    cookie_header.remove_prefix(semi + 1);
  }
  return "";
}

bool QueryHasToken(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return false;
  bool found = false;
  ForEachPair(target.substr(q + 1), [&](std::string_view key, std::string_view) {
    if (UrlDecode(key) == "token") found = true;
  });
  return found;
}

std::string FormValue(std::string_view body, std::string_view name) {
  std::string value;
  ForEachPair(body, [&](std::string_view key, std::string_view v) {
    if (UrlDecode(key) == name) value = UrlDecode(v);
  });
  return value;
}

std::string TokenCookieHeader(std::string_view token) {
  std::string header = std::string(kTokenCookie) + "=" + std::string(token) +
                       "; Path=/; HttpOnly; SameSite=Strict";
  if (token.empty()) header += "; Max-Age=0";
  return header;
}

}  // namespace fedsmear
