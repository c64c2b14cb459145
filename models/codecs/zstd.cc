// zstd (uplink frame): the whole payload of an update as one zstd frame (level 3, content size
// in the frame header), named by a "+zstd" suffix: "sign1+q8+zstd". The uplink header's frame
// byte is 1 and its payload length and SHA-256 are those of the frame, so corruption is found
// before anything is decompressed. Decoding refuses, as Corrupt and before allocating, a frame
// whose declared content size is not the size the layout implies, a frame without a declared
// size, bytes after the frame, and anything the decompressor rejects: a decompression bomb
// cannot allocate more than the unframed update would take.
#include <zstd.h>

#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "models/codecs/codec_registry.h"

namespace fedsmear {
namespace {

constexpr int kLevel = 3;

// Owns one zstd context (ZSTD_CCtx or ZSTD_DCtx); move-only. Creation fails only when memory
// is exhausted (std::bad_alloc, as for any allocation).
template <typename Ctx, Ctx* (*Create)(), size_t (*Free)(Ctx*)>
class ZstdContext {
 public:
  ZstdContext() : ctx_(Create()) {
    if (!ctx_) throw std::bad_alloc();
  }
  ~ZstdContext() { Free(ctx_); }  // both free functions accept null
  ZstdContext(ZstdContext&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}
  ZstdContext& operator=(ZstdContext&& other) noexcept {
    std::swap(ctx_, other.ctx_);
    return *this;
  }
  ZstdContext(const ZstdContext&) = delete;
  ZstdContext& operator=(const ZstdContext&) = delete;
  Ctx* get() const { return ctx_; }

 private:
  Ctx* ctx_;
};

using ZstdCompressor = ZstdContext<ZSTD_CCtx, ZSTD_createCCtx, ZSTD_freeCCtx>;
using ZstdDecompressor = ZstdContext<ZSTD_DCtx, ZSTD_createDCtx, ZSTD_freeDCtx>;
static_assert(!std::is_copy_constructible_v<ZstdCompressor> &&
              std::is_nothrow_move_constructible_v<ZstdCompressor> &&
              std::is_nothrow_move_assignable_v<ZstdDecompressor>);

size_t MaxBytes(size_t payload) { return ZSTD_compressBound(payload); }

std::string Encode(std::string_view payload) {
  ZstdCompressor cctx;
  std::string out(ZSTD_compressBound(payload.size()), '\0');
  const size_t n = ZSTD_compressCCtx(cctx.get(), out.data(), out.size(), payload.data(),
                                     payload.size(), kLevel);
  // With compressBound bytes of room compression cannot fail for lack of space; anything else
  // is a broken library.
  if (ZSTD_isError(n)) throw std::logic_error(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Result<std::string> Decode(std::string_view framed, size_t payload_bytes) {
  const unsigned long long declared = ZSTD_getFrameContentSize(framed.data(), framed.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) return Corrupt("zstd frame: bad frame header");
  if (declared == ZSTD_CONTENTSIZE_UNKNOWN) {
    return Corrupt("zstd frame does not declare its content size");
  }
  if (declared != payload_bytes) {
    return Corrupt("zstd frame holds " + std::to_string(declared) + " bytes, the model needs " +
                   std::to_string(payload_bytes));
  }
  const size_t frame = ZSTD_findFrameCompressedSize(framed.data(), framed.size());
  if (ZSTD_isError(frame) || frame != framed.size()) {
    return Corrupt("zstd frame is truncated or followed by other bytes");
  }
  ZstdDecompressor dctx;
  std::string out(payload_bytes, '\0');
  const size_t n =
      ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), framed.data(), framed.size());
  if (ZSTD_isError(n)) return Corrupt(std::string("zstd frame: ") + ZSTD_getErrorName(n));
  if (n != payload_bytes) {
    return Corrupt("zstd frame decompressed to " + std::to_string(n) + " bytes, not " +
                   std::to_string(payload_bytes));
  }
  return out;
}

}  // namespace

FrameCodec ZstdEntry() {
  FrameCodec f;
  f.name = "zstd";
  f.help = "the whole update compressed as one zstd frame (level 3)";
  f.uses = {{CodecDirection::kUplink, 1}};
  f.max_bytes = MaxBytes;
  f.encode = Encode;
  f.decode = Decode;
  return f;
}

}  // namespace fedsmear
