// Image file recognition by content: format from magic bytes, declared size from the header.
//
// Used by the dataset scanners (to skip empty, non-image and absurdly large files before any
// decoding) and by DecodeImage (to refuse absurd sizes before allocating, and to detect truncated
// JPEGs, which OpenCV would otherwise decode with a grey tail). Only JPEG, PNG, BMP and TIFF are
// accepted; file extensions are ignored. Thread-safety: pure functions, reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace fedsmear {

enum class ImageFormat { kUnknown, kJpeg, kPng, kBmp, kTiff };

const char* ImageFormatName(ImageFormat format);

// Format from the first bytes (needs at most 8), or kUnknown.
ImageFormat DetectImageFormat(std::string_view head);

struct ImageHeader {
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0;
  int height = 0;
};

// Parses the format and declared width/height from `bytes`, the start of a file (or all of it).
// Errors (message is a short reason suitable for SkippedFile::reason):
//   kCorrupt "empty file", "not an image (unrecognised header)", "truncated header",
//            "declared size 0x0";
//   kResourceExhausted "declared size WxH exceeds max_image_side N";
// `complete` says whether `bytes` is the whole file; if the size field lies beyond a partial
// buffer the error is kFailedPrecondition "need more bytes" (callers then read the whole file).
Result<ImageHeader> ParseImageHeader(std::string_view bytes, bool complete, int max_side);

// Reads the start of `path` (the whole file if the header needs it) and parses it.
// Adds kNotFound / kIoError for files that cannot be opened or read.
Result<ImageHeader> ProbeImageFile(const std::string& path, int max_side);

// True when a complete JPEG file has an end-of-image marker after its first scan, i.e. it is not
// truncated. Entropy-coded data cannot contain FF D9, so the check is exact for baseline and
// progressive files.
bool JpegHasEndMarker(std::string_view bytes);

}  // namespace fedsmear
