#include "data/image_header.h"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace fedsmear {
namespace {

constexpr size_t kProbeBytes = 64 * 1024;

uint32_t Be16(std::string_view b, size_t off) {
  return (static_cast<uint8_t>(b[off]) << 8) | static_cast<uint8_t>(b[off + 1]);
}
uint32_t Be32(std::string_view b, size_t off) { return (Be16(b, off) << 16) | Be16(b, off + 2); }
uint32_t Le16(std::string_view b, size_t off) {
  return static_cast<uint8_t>(b[off]) | (static_cast<uint8_t>(b[off + 1]) << 8);
}
uint32_t Le32(std::string_view b, size_t off) { return Le16(b, off) | (Le16(b, off + 2) << 16); }

Status NeedMore(bool complete) {
  return complete ? Corrupt("truncated header") : FailedPrecondition("need more bytes");
}

// Walks JPEG marker segments until a start-of-frame marker.
Status ParseJpeg(std::string_view b, bool complete, ImageHeader* h) {
  size_t pos = 2;  // after SOI
  while (true) {
    if (pos + 4 > b.size()) return NeedMore(complete);
    if (static_cast<uint8_t>(b[pos]) != 0xFF) return Corrupt("corrupt JPEG marker structure");
    uint8_t marker = static_cast<uint8_t>(b[pos + 1]);
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // standalone markers
      pos += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) return Corrupt("JPEG has no frame header");
    uint32_t len = Be16(b, pos + 2);
    if (len < 2) return Corrupt("corrupt JPEG segment length");
    bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
               marker != 0xCC;
    if (sof) {
      if (pos + 9 > b.size()) return NeedMore(complete);
      h->height = static_cast<int>(Be16(b, pos + 5));
      h->width = static_cast<int>(Be16(b, pos + 7));
      return Status::Ok();
    }
    pos += 2 + len;
  }
}

Status ParsePng(std::string_view b, bool complete, ImageHeader* h) {
  if (b.size() < 24) return NeedMore(complete);
  if (b.substr(12, 4) != "IHDR") return Corrupt("PNG without IHDR chunk");
  uint32_t w = Be32(b, 16), ht = Be32(b, 20);
  h->width = w > 0x7FFFFFFF ? 0x7FFFFFFF : static_cast<int>(w);
  h->height = ht > 0x7FFFFFFF ? 0x7FFFFFFF : static_cast<int>(ht);
  return Status::Ok();
}

Status ParseBmp(std::string_view b, bool complete, ImageHeader* h) {
  if (b.size() < 26) return NeedMore(complete);
  uint32_t dib = Le32(b, 14);
  if (dib == 12) {  // BITMAPCOREHEADER: 16-bit sizes
    h->width = static_cast<int>(Le16(b, 18));
    h->height = static_cast<int>(Le16(b, 20));
  } else if (dib >= 40) {
    int64_t w = static_cast<int32_t>(Le32(b, 18));
    int64_t ht = static_cast<int32_t>(Le32(b, 22));
    if (ht < 0) ht = -ht;  // top-down bitmap
    if (w < 0) return Corrupt("BMP with negative width");
    h->width = static_cast<int>(std::min<int64_t>(w, 0x7FFFFFFF));
    h->height = static_cast<int>(std::min<int64_t>(ht, 0x7FFFFFFF));
  } else {
    return Corrupt("unsupported BMP header");
  }
  return Status::Ok();
}

Status ParseTiff(std::string_view b, bool complete, ImageHeader* h) {
  const bool le = b[0] == 'I';
  auto u16 = [&](size_t off) { return le ? Le16(b, off) : Be16(b, off); };
  auto u32 = [&](size_t off) { return le ? Le32(b, off) : Be32(b, off); };
  if (b.size() < 8) return NeedMore(complete);
  size_t ifd = u32(4);
  if (ifd + 2 > b.size()) return NeedMore(complete);
  uint32_t entries = u16(ifd);
  if (ifd + 2 + entries * 12ull > b.size()) return NeedMore(complete);
  int64_t w = -1, ht = -1;
  for (uint32_t i = 0; i < entries; ++i) {
    size_t e = ifd + 2 + i * 12;
    uint32_t tag = u16(e), type = u16(e + 2);
    uint32_t value = type == 3 ? u16(e + 8) : type == 4 ? u32(e + 8) : 0;
    if (type != 3 && type != 4) continue;
    if (tag == 256) w = value;
    if (tag == 257) ht = value;
  }
  if (w < 0 || ht < 0) return Corrupt("TIFF without image size tags");
  h->width = static_cast<int>(std::min<int64_t>(w, 0x7FFFFFFF));
  h->height = static_cast<int>(std::min<int64_t>(ht, 0x7FFFFFFF));
  return Status::Ok();
}

}  // namespace

const char* ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "jpeg";
    case ImageFormat::kPng: return "png";
    case ImageFormat::kBmp: return "bmp";
    case ImageFormat::kTiff: return "tiff";
    default: return "unknown";
  }
}

ImageFormat DetectImageFormat(std::string_view b) {
  if (b.size() >= 3 && static_cast<uint8_t>(b[0]) == 0xFF && static_cast<uint8_t>(b[1]) == 0xD8 &&
      static_cast<uint8_t>(b[2]) == 0xFF) {
    return ImageFormat::kJpeg;
  }
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) {
    return ImageFormat::kPng;
  }
  if (b.size() >= 2 && b[0] == 'B' && b[1] == 'M') return ImageFormat::kBmp;
  if (b.size() >= 4 && (b.substr(0, 4) == std::string_view("II*\0", 4) ||
                        b.substr(0, 4) == std::string_view("MM\0*", 4))) {
    return ImageFormat::kTiff;
  }
  return ImageFormat::kUnknown;
}

Result<ImageHeader> ParseImageHeader(std::string_view bytes, bool complete, int max_side) {
  if (bytes.empty()) return Corrupt("empty file");
  ImageHeader h;
  h.format = DetectImageFormat(bytes);
  Status st;
  switch (h.format) {
    case ImageFormat::kJpeg: st = ParseJpeg(bytes, complete, &h); break;
    case ImageFormat::kPng: st = ParsePng(bytes, complete, &h); break;
    case ImageFormat::kBmp: st = ParseBmp(bytes, complete, &h); break;
    case ImageFormat::kTiff: st = ParseTiff(bytes, complete, &h); break;
    default:
      if (!complete && bytes.size() < 8) return NeedMore(complete);
      return Corrupt("not an image (unrecognised header)");
  }
  RETURN_IF_ERROR(st);
  if (h.width <= 0 || h.height <= 0) {
    return Corrupt("declared size " + std::to_string(h.width) + "x" + std::to_string(h.height));
  }
  if (h.width > max_side || h.height > max_side) {
    return ResourceExhausted("declared size " + std::to_string(h.width) + "x" +
                             std::to_string(h.height) + " exceeds max_image_side " +
                             std::to_string(max_side));
  }
  return h;
}

Result<ImageHeader> ProbeImageFile(const std::string& path, int max_side) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::string buf(kProbeBytes, '\0');
  in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  if (in.bad()) return IoError("cannot read " + path);
  buf.resize(static_cast<size_t>(in.gcount()));
  const bool complete = buf.size() < kProbeBytes;
  Result<ImageHeader> h = ParseImageHeader(buf, complete, max_side);
  if (h.ok() || h.status().code() != StatusCode::kFailedPrecondition) return h;
  // The header extends past the probe window (large EXIF block, TIFF IFD at the end).
  std::string rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return IoError("cannot read " + path);
  buf += rest;
  return ParseImageHeader(buf, true, max_side);
}

bool JpegHasEndMarker(std::string_view b) {
  // Find the first SOS marker by walking segments, then look for FF D9 after it.
  size_t pos = 2;
  while (pos + 4 <= b.size()) {
    if (static_cast<uint8_t>(b[pos]) != 0xFF) return false;
    uint8_t marker = static_cast<uint8_t>(b[pos + 1]);
    if (marker == 0xFF) {
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      pos += 2;
      continue;
    }
    if (marker == 0xD9) return false;
    if (marker == 0xDA) break;
    pos += 2 + Be16(b, pos + 2);
  }
  if (pos + 4 > b.size()) return false;
  std::string_view scan = b.substr(pos + 2);
  return scan.find(std::string_view("\xFF\xD9", 2)) != std::string_view::npos;
}

}  // namespace fedsmear
