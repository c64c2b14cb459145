// VerifyMemo: Ed25519 verifications already done, shared by sites that live in one process
// (`fedsmear simulate --in-process`).
//
// In a SecAgg+ round every site verifies every site's signed round keys (secagg/site.h: the
// neighbour graph is derived from all of them), so n sites in one process would run n^2
// verifications of the same n (key, message, signature) triples. Verification is a pure function
// of that triple, so remembering its successes changes no answer: a triple that verified once
// verifies again, and anything else (another key, message or signature, a forged or altered
// relay) is not in the memo and is verified in full. Failures are not remembered. Deployed
// sites (one per process) have no memo and verify everything themselves.
//
// Thread-safety: Verify may be called from any thread (one mutex around the set; the maths runs
// outside it). Ownership: shared by the sites through std::shared_ptr; holds only digests.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_set>

#include "common/status.h"
#include "secagg/crypto.h"

namespace fedsmear::secagg {

class VerifyMemo {
 public:
  // Holds at most `max_entries` successes; when full it forgets them all and starts again.
  explicit VerifyMemo(size_t max_entries = size_t{1} << 20) : max_entries_(max_entries) {}
  VerifyMemo(const VerifyMemo&) = delete;
  VerifyMemo& operator=(const VerifyMemo&) = delete;

  // Ed25519Verify(public_key, message, signature), or OK at once for a triple that verified
  // before.
  Status Verify(const PublicKey32& public_key, const Bytes& message,
                const Signature64& signature);

  // How many verifications ran the maths, and how many were answered from the memo.
  size_t computed() const;
  size_t remembered() const;

 private:
  mutable std::mutex mu_;
  std::unordered_set<std::string> verified_;  // key | signature | SHA-256(message)
  size_t max_entries_;
  size_t computed_ = 0;
  size_t remembered_ = 0;
};

// Ed25519Verify through `memo` when there is one.
Status VerifySignature(VerifyMemo* memo, const PublicKey32& public_key, const Bytes& message,
                       const Signature64& signature);

}  // namespace fedsmear::secagg
