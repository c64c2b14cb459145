// Little-endian integers and floats in byte buffers, whatever the host's byte order: the one
// set of helpers for fedsmear's own binary layouts (codec blocks, strategy state in
// checkpoints, SecAgg+ signed transcripts, PRG words).
//   Store*/Load*  fixed positions (caller checks bounds)
//   Append*       to the end of a std::string or std::vector<uint8_t>
//   LeReader      sequential, bounds-checked reads (false when the input is too short)
// Header-only, pure functions; LeReader borrows the bytes it reads.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace fedsmear {

namespace le_internal {
template <typename T>
inline T FromHost(T v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  if constexpr (sizeof(T) == 4) return __builtin_bswap32(v);
  if constexpr (sizeof(T) == 8) return __builtin_bswap64(v);
#endif
  return v;
}
}  // namespace le_internal

inline void StoreLe32(uint32_t v, void* p) {
  v = le_internal::FromHost(v);
  std::memcpy(p, &v, 4);
}
inline void StoreLe64(uint64_t v, void* p) {
  v = le_internal::FromHost(v);
  std::memcpy(p, &v, 8);
}
inline uint32_t LoadLe32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return le_internal::FromHost(v);
}
inline uint64_t LoadLe64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return le_internal::FromHost(v);
}
inline float LoadLeF32(const void* p) {
  const uint32_t bits = LoadLe32(p);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// `Bytes`: std::string or std::vector<uint8_t>.
template <typename Bytes>
void AppendLe32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<typename Bytes::value_type>(v >> (8 * i)));
}
template <typename Bytes>
void AppendLe64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<typename Bytes::value_type>(v >> (8 * i)));
}
template <typename Bytes>
void AppendLeF32s(Bytes& out, const std::vector<float>& values) {
  for (float f : values) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    AppendLe32(out, bits);
  }
}

class LeReader {
 public:
  explicit LeReader(std::string_view bytes) : bytes_(bytes) {}
  bool U32(uint32_t* v) { return Take(4, [&](const char* p) { *v = LoadLe32(p); }); }
  bool U64(uint64_t* v) { return Take(8, [&](const char* p) { *v = LoadLe64(p); }); }
  // Resizes `values` to n and fills it; false (values untouched) when fewer than 4n bytes remain.
  bool F32s(uint64_t n, std::vector<float>* values) {
    if (n > remaining() / 4) return false;
    values->resize(n);
    for (float& f : *values) {
      f = LoadLeF32(bytes_.data() + pos_);
      pos_ += 4;
    }
    return true;
  }
  size_t remaining() const { return bytes_.size() - pos_; }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  template <typename F>
  bool Take(size_t n, F&& read) {
    if (remaining() < n) return false;
    read(bytes_.data() + pos_);
    pos_ += n;
    return true;
  }
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace fedsmear
