// The token rules as pure functions: constant-time match, header, cookie, URL and form parsing.
#include "common/http/http_auth.h"

#include <gtest/gtest.h>

namespace fedsmear {
namespace {

TEST(HttpAuthTest, TokenMatchesOnlyTheSameBytes) {
  EXPECT_TRUE(TokenMatches("s3cret", "s3cret"));
  EXPECT_FALSE(TokenMatches("s3cret", "s3cre"));
  EXPECT_FALSE(TokenMatches("s3cret", "s3cret "));
  EXPECT_FALSE(TokenMatches("s3cret", "S3cret"));
  EXPECT_FALSE(TokenMatches("s3cret", ""));
  EXPECT_FALSE(TokenMatches("", "")) << "no configured token never matches";
}

TEST(HttpAuthTest, BearerTokenNeedsTheScheme) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer  abc "), "abc");
  EXPECT_EQ(BearerToken("Basic abc"), "");
  EXPECT_EQ(BearerToken("abc"), "");
  EXPECT_EQ(BearerToken("Bearer "), "");
}

TEST(HttpAuthTest, CookieValueFindsTheNamedCookie) {
  EXPECT_EQ(CookieValue("a=1; fedsmear_token=xyz; b=2", kTokenCookie), "xyz");
  EXPECT_EQ(CookieValue("fedsmear_token=xyz", kTokenCookie), "xyz");
  EXPECT_EQ(CookieValue("xfedsmear_token=xyz", kTokenCookie), "");
  EXPECT_EQ(CookieValue("", kTokenCookie), "");
}

TEST(HttpAuthTest, QueryHasTokenLooksAtTheQueryOnly) {
  EXPECT_TRUE(QueryHasToken("/?token=abc"));
  EXPECT_TRUE(QueryHasToken("/api/run?x=1&token="));
  EXPECT_TRUE(QueryHasToken("/metrics?%74oken=abc")) << "an encoded key is still the token";
  EXPECT_FALSE(QueryHasToken("/token"));
  EXPECT_FALSE(QueryHasToken("/?tokens=1"));
  EXPECT_FALSE(QueryHasToken("/"));
}

TEST(HttpAuthTest, FormValueDecodes) {
  EXPECT_EQ(FormValue("token=a%2Bb+c&x=1", "token"), "a+b c");
  EXPECT_EQ(FormValue("x=1", "token"), "");
  EXPECT_EQ(FormValue("token=%zz", "token"), "%zz");
}

TEST(HttpAuthTest, CookieHeaderIsHttpOnlyAndStrict) {
  const std::string set = TokenCookieHeader("abc");
  EXPECT_EQ(set.rfind("fedsmear_token=abc;", 0), 0u) << set;
  EXPECT_NE(set.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(set.find("Path=/"), std::string::npos);
  EXPECT_NE(TokenCookieHeader("").find("Max-Age=0"), std::string::npos);
}

}  // namespace
}  // namespace fedsmear
