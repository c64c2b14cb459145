#include "models/capnp_file.h"

#include <cstring>

#include "common/sha256.h"

namespace fedsmear {
namespace {

namespace ck = wire::checkpoint;

constexpr size_t kMagicSize = 8;
constexpr size_t kNameSize = 6;
constexpr size_t kDigest = 32;
constexpr uint32_t kMaxClasses = 100000;
constexpr uint32_t kMaxRank = 8;

std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

}  // namespace

std::string FileMagic(std::string_view name, uint32_t format) {
  return std::string(name.substr(0, kNameSize)) + std::to_string(format % 10) + "\n";
}

std::string FrameCapnpFile(std::string_view name, uint32_t format,
                           capnp::MessageBuilder& message) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  kj::ArrayPtr<const char> chars = words.asChars();
  std::string body = FileMagic(name, format);
  body.append(chars.begin(), chars.size());
  const Digest256 d = Sha256Of(body);
  body.append(reinterpret_cast<const char*>(d.data()), d.size());
  return body;
}

Result<uint32_t> FileFormat(const std::string& path, std::string_view bytes,
                            std::string_view name) {
  if (bytes.size() < kMagicSize || bytes.substr(0, kNameSize) != name.substr(0, kNameSize) ||
      bytes[kMagicSize - 1] != '\n' || bytes[kNameSize] < '1' || bytes[kNameSize] > '9') {
    return Corrupt(path + ": not a fedsmear " + std::string(name.substr(0, kNameSize)) +
                   " file");
  }
  return static_cast<uint32_t>(bytes[kNameSize] - '0');
}

Result<kj::Array<capnp::word>> VerifiedMessage(const std::string& path,
                                               std::string_view bytes) {
  if (bytes.size() < kMagicSize + kDigest) return Corrupt(path + ": truncated file");
  const std::string_view body = bytes.substr(0, bytes.size() - kDigest);
  const Digest256 d = Sha256Of(body);
  if (std::memcmp(d.data(), bytes.data() + body.size(), kDigest) != 0) {
    return Corrupt(path + ": checksum mismatch (torn or corrupted file)");
  }
  const std::string_view message = body.substr(kMagicSize);
  if (message.empty() || message.size() % sizeof(capnp::word) != 0) {
    return Corrupt(path + ": body is not a whole number of 8-byte words");
  }
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(message.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), message.data(), message.size());
  return words;
}

capnp::ReaderOptions ReaderOptionsFor(const kj::Array<capnp::word>& words) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = words.size() * 2 + 64;
  return options;
}

void WriteTensors(const std::vector<NamedTensor>& in, capnp::List<ck::Tensor>::Builder out) {
  for (size_t i = 0; i < in.size(); ++i) {
    const NamedTensor& t = in[i];
    auto b = out[static_cast<unsigned>(i)];
    b.setName(CapnpText(t.name));
    auto shape = b.initShape(static_cast<unsigned>(t.shape.size()));
    for (size_t d = 0; d < t.shape.size(); ++d) shape.set(static_cast<unsigned>(d), t.shape[d]);
    b.setKind(static_cast<uint8_t>(t.kind));
    auto values = b.initValues(static_cast<unsigned>(t.values.size()));
    for (size_t k = 0; k < t.values.size(); ++k) values.set(static_cast<unsigned>(k), t.values[k]);
  }
}

Result<std::vector<NamedTensor>> ReadTensors(capnp::List<ck::Tensor>::Reader in,
                                             uint32_t max_tensors) {
  if (in.size() > max_tensors) return Corrupt(std::to_string(in.size()) + " tensors");
  std::vector<NamedTensor> out;
  out.reserve(in.size());
  for (auto t : in) {
    NamedTensor n;
    n.name = Str(t.getName());
    auto shape = t.getShape();
    if (n.name.empty() || shape.size() > kMaxRank) {
      return Corrupt("malformed tensor '" + n.name + "'");
    }
    for (int64_t d : shape) {
      if (d < 0) return Corrupt("tensor '" + n.name + "' has a negative dimension");
      n.shape.push_back(d);
    }
    if (t.getKind() > static_cast<uint8_t>(TensorKind::kStat)) {
      return Corrupt("tensor '" + n.name + "' has unknown kind " + std::to_string(t.getKind()));
    }
    n.kind = static_cast<TensorKind>(t.getKind());
    auto values = t.getValues();
    if (NumElements(n.shape) != static_cast<int64_t>(values.size())) {
      return Corrupt("tensor '" + n.name + "' holds " + std::to_string(values.size()) +
                     " values for its shape of " + std::to_string(NumElements(n.shape)));
    }
    n.values.resize(values.size());
    for (unsigned k = 0; k < values.size(); ++k) n.values[k] = values[k];
    out.push_back(std::move(n));
  }
  return out;
}

void WriteModel(const ModelState& m, ck::Model::Builder out) {
  out.setArch(CapnpText(m.meta.arch));
  out.setClasses(m.meta.classes);
  out.setInputSize(m.meta.input_size);
  auto names = out.initClassNames(static_cast<unsigned>(m.meta.class_names.size()));
  for (size_t i = 0; i < m.meta.class_names.size(); ++i) {
    names.set(static_cast<unsigned>(i), CapnpText(m.meta.class_names[i]));
  }
  WriteTensors(m.tensors, out.initTensors(static_cast<unsigned>(m.tensors.size())));
}

Result<ModelState> ReadModel(ck::Model::Reader in) {
  ModelState m;
  m.meta.arch = Str(in.getArch());
  m.meta.classes = in.getClasses();
  m.meta.input_size = in.getInputSize();
  if (m.meta.arch.empty() || m.meta.classes < 1 ||
      static_cast<uint32_t>(m.meta.classes) > kMaxClasses || m.meta.input_size < 1) {
    return Corrupt("model metadata out of range (arch '" + m.meta.arch + "', " +
                   std::to_string(m.meta.classes) + " classes, input " +
                   std::to_string(m.meta.input_size) + ")");
  }
  auto names = in.getClassNames();
  if (names.size() > kMaxClasses) return Corrupt("too many class names");
  for (auto n : names) m.meta.class_names.push_back(Str(n));
  if (in.getTensors().size() == 0) return Corrupt("model has 0 tensors");
  ASSIGN_OR_RETURN(m.tensors, ReadTensors(in.getTensors()));
  return m;
}

}  // namespace fedsmear
