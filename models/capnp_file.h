// Persistent Cap'n Proto files that hold model tensors: the coordinator's checkpoints
// (coordinator/checkpoint.h) and a site's optimizer state (client/optimizer_store.h).
//
// A file is MAGIC (8 bytes: a 6-byte name, the format number as one digit, '\n') | one unpacked
// Cap'n Proto flat-array message | SHA-256 of everything before it. Cap'n Proto keeps numbers
// little-endian on every host, so the files move between machines. Tensors use the Tensor and
// Model structs of common/wire/checkpoint.capnp; reading validates names, ranks, kinds and
// value counts before anything is sized from the file.
//
// Thread-safety: free functions, reentrant. Ownership: values in, values out; the readers own
// aligned copies of the bytes they parse.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/wire/checkpoint.capnp.h"
#include "models/model_state.h"

namespace fedsmear {

// A Cap'n Proto Text view of `s` (valid while `s` is).
inline capnp::Text::Reader CapnpText(const std::string& s) {
  return capnp::Text::Reader(s.data(), s.size());
}

// MAGIC for `name` (6 characters) and `format` (1-9).
std::string FileMagic(std::string_view name, uint32_t format);

// The file's bytes: FileMagic(name, format) | `message` | SHA-256.
std::string FrameCapnpFile(std::string_view name, uint32_t format,
                           capnp::MessageBuilder& message);

// The format number of a file whose magic is `name`'s; Corrupt (naming `path`) otherwise. Read
// before the checksum, so that a caller refuses a file of another format for what it is.
Result<uint32_t> FileFormat(const std::string& path, std::string_view bytes,
                            std::string_view name);

// An aligned copy of the message of a framed file whose checksum holds; Corrupt (naming
// `path`) for a truncated, torn or damaged file.
Result<kj::Array<capnp::word>> VerifiedMessage(const std::string& path, std::string_view bytes);

// Reader options sized for `words` (a traversal limit of twice the message).
capnp::ReaderOptions ReaderOptionsFor(const kj::Array<capnp::word>& words);

void WriteTensors(const std::vector<NamedTensor>& tensors,
                  capnp::List<wire::checkpoint::Tensor>::Builder out);
// At most `max_tensors`; an empty list is allowed (the caller decides whether it may be).
Result<std::vector<NamedTensor>> ReadTensors(
    capnp::List<wire::checkpoint::Tensor>::Reader in, uint32_t max_tensors = 100000);

void WriteModel(const ModelState& m, wire::checkpoint::Model::Builder out);
// A model with sane metadata and at least one tensor.
Result<ModelState> ReadModel(wire::checkpoint::Model::Reader in);

}  // namespace fedsmear
