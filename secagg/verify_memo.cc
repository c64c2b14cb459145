#include "secagg/verify_memo.h"

#include <string_view>

#include "common/sha256.h"

namespace fedsmear::secagg {
namespace {

std::string Key(const PublicKey32& public_key, const Bytes& message,
                const Signature64& signature) {
  const Digest256 digest = Sha256Of(std::string_view(
      reinterpret_cast<const char*>(message.data()), message.size()));
  std::string key;
  key.reserve(public_key.size() + signature.size() + digest.size());
  key.append(reinterpret_cast<const char*>(public_key.data()), public_key.size());
  key.append(reinterpret_cast<const char*>(signature.data()), signature.size());
  key.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return key;
}

}  // namespace

Status VerifyMemo::Verify(const PublicKey32& public_key, const Bytes& message,
                          const Signature64& signature) {
  std::string key = Key(public_key, message, signature);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (verified_.count(key)) {
      ++remembered_;
      return Status::Ok();
    }
  }
  Status status = Ed25519Verify(public_key, message, signature);
  std::lock_guard<std::mutex> lock(mu_);
  ++computed_;
  if (status.ok()) {
    if (verified_.size() >= max_entries_) verified_.clear();
    verified_.insert(std::move(key));
  }
  return status;
}

size_t VerifyMemo::computed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return computed_;
}

size_t VerifyMemo::remembered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return remembered_;
}

Status VerifySignature(VerifyMemo* memo, const PublicKey32& public_key, const Bytes& message,
                       const Signature64& signature) {
  return memo ? memo->Verify(public_key, message, signature)
              : Ed25519Verify(public_key, message, signature);
}

}  // namespace fedsmear::secagg
