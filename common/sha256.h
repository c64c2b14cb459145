// SHA-256 through OpenSSL's EVP interface.
//
// Sha256 is incremental (Update/Final); Sha256Of hashes one buffer. The EVP_MD_CTX is owned by a
// move-only handle. Thread-safety: one Sha256 per thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

struct evp_md_ctx_st;

namespace fedsmear {

using Digest256 = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  Sha256(Sha256&&) noexcept = default;
  Sha256& operator=(Sha256&&) noexcept = default;

  void Update(std::string_view bytes);
  Digest256 Final();

 private:
  struct CtxDeleter {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxDeleter> ctx_;
};

Digest256 Sha256Of(std::string_view bytes);
std::string ToHex(const uint8_t* data, size_t size);
inline std::string ToHex(const Digest256& d) { return ToHex(d.data(), d.size()); }

}  // namespace fedsmear
