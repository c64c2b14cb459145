// The bearer-token rules of fedsmear's HTTP endpoints (common/http/http_server.h), as pure
// functions so that they can be tested without a socket.
//
// A token travels only in an "Authorization: Bearer TOKEN" header or in the HttpOnly cookie
// kTokenCookie that the login form sets; never in a URL, where it would end up in browser
// history, proxy logs and Referer headers. Tokens are compared in constant time: both sides
// are hashed with SHA-256 and the digests compared with CRYPTO_memcmp, so neither the
// position of the first wrong byte nor the token's length shows in the timing.
//
// Thread-safety: pure functions. Ownership: none.
#pragma once

#include <string>
#include <string_view>

namespace fedsmear {

inline constexpr char kTokenCookie[] = "fedsmear_token";

// True when `given` equals `expected` (constant time in the contents of both).
bool TokenMatches(std::string_view expected, std::string_view given);

// The token an "Authorization" header carries ("Bearer TOKEN", scheme case-insensitive), or "".
std::string BearerToken(std::string_view authorization);

// The value of cookie `name` in a "Cookie" header ("a=1; b=2"), or "".
std::string CookieValue(std::string_view cookie_header, std::string_view name);

// True when the request target ("/path?query") has a `token` parameter in its query.
bool QueryHasToken(std::string_view target);

// The value of `name` in an application/x-www-form-urlencoded body, URL-decoded, or "".
std::string FormValue(std::string_view body, std::string_view name);

// The Set-Cookie header value that stores `token` for this origin only (HttpOnly,
// SameSite=Strict, Path=/); an empty token makes the header that deletes the cookie.
std::string TokenCookieHeader(std::string_view token);

}  // namespace fedsmear
