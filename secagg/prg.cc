#include "secagg/prg.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "common/le_bytes.h"

namespace fedsmear::secagg {
namespace {

constexpr size_t kBlockBytes = 64 * 1024;  // fits L2; OpenSSL's CTR loop runs at full speed
constexpr size_t kBlockWords = kBlockBytes / sizeof(uint32_t);

}  // namespace

Result<AesCtrPrg> AesCtrPrg::Create(const Secret32& seed, const std::array<uint8_t, 16>& iv) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr, seed.data(), iv.data()) != 1) {
    ERR_clear_error();
    return Internal("OpenSSL: cannot initialise AES-256-CTR");
  }
  AesCtrPrg prg(std::move(ctx));
  prg.zeros_.assign(kBlockBytes, 0);
  return prg;
}

Status AesCtrPrg::Fill(uint8_t* out, size_t size) {
  while (size > 0) {
    const size_t chunk = std::min(size, kBlockBytes);
    int len = 0;
    if (EVP_EncryptUpdate(ctx_.get(), out, &len, zeros_.data(), static_cast<int>(chunk)) != 1 ||
        static_cast<size_t>(len) != chunk) {
      ERR_clear_error();
      return Internal("OpenSSL: AES-256-CTR keystream failed");
    }
    out += chunk;
    size -= chunk;
  }
  return Status::Ok();
}

Status AesCtrPrg::FillWords32(uint32_t* out, size_t count) {
  RETURN_IF_ERROR(Fill(reinterpret_cast<uint8_t*>(out), count * sizeof(uint32_t)));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (size_t i = 0; i < count; ++i) out[i] = __builtin_bswap32(out[i]);
#endif
  return Status::Ok();
}

Status AesCtrPrg::FillWords64(uint64_t* out, size_t count) {
  RETURN_IF_ERROR(Fill(reinterpret_cast<uint8_t*>(out), count * sizeof(uint64_t)));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (size_t i = 0; i < count; ++i) out[i] = __builtin_bswap64(out[i]);
#endif
  return Status::Ok();
}

Result<std::vector<uint32_t>> ExpandSeed32(const Secret32& seed, size_t count) {
  ASSIGN_OR_RETURN(AesCtrPrg prg, AesCtrPrg::Create(seed));
  std::vector<uint32_t> out(count);
  RETURN_IF_ERROR(prg.FillWords32(out.data(), count));
  return out;
}

Result<std::vector<uint64_t>> ExpandSeed64(const Secret32& seed, size_t count) {
  ASSIGN_OR_RETURN(AesCtrPrg prg, AesCtrPrg::Create(seed));
  std::vector<uint64_t> out(count);
  RETURN_IF_ERROR(prg.FillWords64(out.data(), count));
  return out;
}

Status AddMask(const Secret32& seed, bool subtract, uint32_t* data, size_t count) {
  ASSIGN_OR_RETURN(AesCtrPrg prg, AesCtrPrg::Create(seed));
  SecretBuffer scratch(kBlockBytes);
  const uint8_t* s = scratch.data();
  for (size_t done = 0; done < count;) {
    const size_t words = std::min(count - done, kBlockWords);
    RETURN_IF_ERROR(prg.Fill(scratch.data(), words * sizeof(uint32_t)));
    uint32_t* d = data + done;
    if (subtract) {
      for (size_t i = 0; i < words; ++i) d[i] -= LoadLe32(s + 4 * i);
    } else {
      for (size_t i = 0; i < words; ++i) d[i] += LoadLe32(s + 4 * i);
    }
    done += words;
  }
  return Status::Ok();
}

void ReduceMod(uint32_t bits, uint32_t* data, size_t count) {
  if (bits >= 32) return;
  const uint32_t mask = (uint32_t{1} << bits) - 1;
  for (size_t i = 0; i < count; ++i) data[i] &= mask;
}

}  // namespace fedsmear::secagg
