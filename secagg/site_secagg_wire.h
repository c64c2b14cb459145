// Conversions between the SecAgg+ library's stage messages (secagg/messages.h) and their
// wire mirrors (common/wire/secagg_messages.h), shared by the site session and the coordinator.
//
// What: byte-string keys <-> fixed arrays, quantized words <-> little-endian bytes, revealed
// shares <-> SerializeShare bytes, and the secagg::Config/IdentityDirectory a SecAggSetup
// describes. The secagg round number is the setup's task id (unique per attempt, so a retried
// round never reuses key material or signatures).
// Failures: kCorrupt for wrong sizes (after Decode these are already checked; the checks here
// make the helpers safe on unvalidated values too).
// Thread-safety: pure functions. Ownership: returns new values.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/wire/messages.h"
#include "secagg/config.h"
#include "secagg/messages.h"
#include "secagg/site.h"

namespace fedsmear {

Result<secagg::PublicKey32> Key32FromBytes(const std::string& bytes, const char* what);
std::string BytesOf(const uint8_t* data, size_t size);

// The transcript every site signs (secagg::Config::transcript): SHA-256 over a labelled,
// length-prefixed encoding of the run id (the Envelope's) and every field of the setup: round,
// task id, each site's id, secagg id, Ed25519 key and vote weight (in setup order), total
// weight, t, k, mask bits, graph seed, clip, stat clip, vector length, vote bits, purpose and the task's model hash (the field
// widths and clips are the secure codec). Two setups that differ anywhere hash differently.
std::array<uint8_t, 32> SetupTranscript(const wire::SecAggSetup& setup, std::string_view run_id);

// The round's secagg configuration (resolved, with the transcript of `setup` in `run_id`) and
// identity directory. The coordinator's Server and every site must build theirs here.
Result<secagg::Config> SecAggConfigFromSetup(const wire::SecAggSetup& setup,
                                             std::string_view run_id);
Result<secagg::IdentityDirectory> DirectoryFromSetup(const wire::SecAggSetup& setup);

wire::SecAggPeerKeys PeerKeysToWire(const secagg::AdvertisedKeys& keys);
Result<secagg::AdvertisedKeys> PeerKeysFromWire(const wire::SecAggPeerKeys& keys, uint64_t round);
Result<secagg::AdvertisedKeys> KeysFromWire(const wire::SecAggKeys& keys, uint32_t site_id,
                                            uint64_t round);

wire::SecAggShare ShareToWire(const secagg::EncryptedShares& share);
secagg::EncryptedShares ShareFromWire(const wire::SecAggShare& share);

std::string WordsToBytes(const std::vector<uint32_t>& words);
// kCorrupt unless `bytes` holds exactly `count` words.
Result<std::vector<uint32_t>> WordsFromBytes(const std::string& bytes, uint64_t count);

// kCorrupt for a signature that is not 64 bytes.
Result<secagg::UnmaskRequest> UnmaskRequestFromWire(const wire::SecAggUnmaskRequest& request);
wire::SecAggUnmaskRequest UnmaskRequestToWire(const secagg::UnmaskRequest& request, uint32_t round,
                                              uint64_t task_id);
Result<secagg::Signature64> Signature64FromBytes(const std::string& bytes);
wire::SecAggUnmaskResponse UnmaskResponseToWire(const secagg::UnmaskResponse& response);
Result<secagg::UnmaskResponse> UnmaskResponseFromWire(const wire::SecAggUnmaskResponse& response,
                                                      uint32_t site_id);

}  // namespace fedsmear
