// Image decoding and image-to-tensor preprocessing, identical for training and evaluation.
//
// Pipeline: DecodeImage (file -> 8-bit RGB) -> ResizeForModel (centre crop, then pad-to-square or
// stretch, to size x size, still 8-bit RGB; this is what the loader caches) -> NormalizeToCHW
// (scale to [0,1], (x - mean) / std per channel, planar CHW floats). ToTensorCHW does the last two.
// OpenCV exceptions are caught here and returned as Status.
//
// Thread-safety: pure functions, safe to call concurrently. Ownership: returned cv::Mat owns its
// pixels; `out` buffers belong to the caller and must hold 3 * size * size floats.
#pragma once

#include <opencv2/core.hpp>

#include <string>

#include "common/config.h"
#include "common/status.h"

namespace fedsmear {

// Reads and decodes an image file (JPEG, PNG, BMP, TIFF, recognised by content). Grey and
// grey+alpha are replicated to 3 channels, alpha is dropped, 16-bit is scaled to 8-bit (/257),
// float images are taken as [0,1]. Returns CV_8UC3 in RGB order.
// Errors: kNotFound/kIoError (file), kCorrupt (empty, not an image, truncated, undecodable),
// kResourceExhausted (declared side > max_side).
Result<cv::Mat> DecodeImage(const std::string& path, int max_side);

// Same, from bytes already in memory; `name` is used in messages.
Result<cv::Mat> DecodeImageBytes(const std::string& bytes, int max_side, const std::string& name);

// Mean colour of the outermost pixel ring (the background of a centred cell).
cv::Scalar BorderMeanColour(const cv::Mat& rgb);

// Centre crop (pre.center_crop of each side), then resize to size x size: "pad" keeps the aspect
// ratio and pads with the border mean colour, "stretch" ignores it. Area interpolation when
// shrinking, linear when enlarging. Input: CV_8UC3; output: CV_8UC3 size x size.
cv::Mat ResizeForModel(const cv::Mat& rgb, int size, const PreprocessConfig& pre);

// CV_8UC3 size x size -> 3*size*size floats, CHW, ((x/255) - mean[c]) / std[c].
void NormalizeToCHW(const cv::Mat& rgb_square, const PreprocessConfig& pre, float* out);

// ResizeForModel followed by NormalizeToCHW.
void ToTensorCHW(const cv::Mat& rgb, int size, const PreprocessConfig& pre, float* out);

}  // namespace fedsmear
