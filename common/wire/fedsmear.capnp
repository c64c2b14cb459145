# fedsmear wire protocol: every message between the coordinator and a hospital site is one
# Envelope, serialised as an unpacked Cap'n Proto flat array and carried in one ZeroMQ frame.
#
# Versioning: protocolVersion is bumped whenever a change is not backward compatible (a field's
# meaning changes, a union member is removed). Adding fields at the end of a struct, new union
# members and new enumerants are compatible in the Cap'n Proto sense, but a receiver of an older
# build reports an unknown union member or enumerant as corrupt, so peers must run the same
# protocolVersion. Ordinals are never reused. Field names follow Cap'n Proto's camelCase; the C++
# mirror in messages.h uses snake_case.

@0x87abc286f00d1680;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("fedsmear::wire::proto");

const protocolVersion :UInt16 = 7;
# 2: Welcome carries the training plan. 3: TrainTask's `extra` strings became typed fields
# (codecUp, latentStart, latentEpsilon, secureAggregation); ModelBlob.codec names the codec
# registry's entry instead of a coarse enum; the unused Hello.resumeRound and
# EvaluateResult.classCorrect/classTotal are gone (their ordinals were the last ones).
# 4: SecAggKeys.signature and SecAggConsistencySignature.signature also sign the transcript of
# the round's SecAggSetup (secagg/site_secagg_wire.h SetupTranscript), the consistency one the
# derived graph seed too; secure sign-vote rounds give every site the same voteWeight.
# 5: SecAggSite.weight and SecAggSetup.weightCap: the setup names every site's weight (its
# training-set size capped at weightCap), each site checks its own and that totalWeight is their
# sum, and the transcript covers both. Heartbeat.pendingPlan: a site says it waits for approval.
# 6: SecAggSetup.purpose and EvaluateTask.secureAggregation: a secure round's batch-norm
# statistics are summed in a second SecAgg+ session of the round (purpose bnStatistics), which
# the transcript names and the sites' session ledger keeps apart from the training sum.
# SecAggSetup.modelSha256 binds the task's model into the transcript.

# A model or an update and the codec that encoded it, by its registry name (protocol 3; it was a
# coarse enum before): a codec_down name (models/packed_model.h DownlinkCodecNames) for models,
# a codec_up name (models/codec.h CodecSpecName) for updates. The bytes carry their own header;
# the receiver parses the name with the same registry and refuses one it does not know.
struct ModelBlob {
  codec @0 :Text;  # 1-64 bytes
  data @1 :Data;   # tens of MB are normal; the only cap is the message size limit
}

# Mirrors fedsmear::AugmentConfig (common/config.h); defaults match it.
struct AugmentConfig {
  hflip @0 :Bool = true;
  vflip @1 :Bool = true;
  rot90 @2 :Bool;
  rotateDeg @3 :Float64;
  zoom @4 :Float64;
  translate @5 :Float64;
  brightness @6 :Float64;
  contrast @7 :Float64;
  hue @8 :Float64;
  cutmix @9 :Float64;
}

# Mirrors fedsmear::TrainConfig; learningRate is the rate for this round (after the schedule).
struct TrainConfig {
  optimizer @0 :Text;  # adam | sgd
  learningRate @1 :Float64;
  momentum @2 :Float64;
  weightDecay @3 :Float64;
  localEpochs @4 :UInt32;
  batchSize @5 :UInt32;
  classWeights @6 :Bool;
  bnMomentum @7 :Float64;
  fedproxMu @8 :Float64;
  augment @9 :AugmentConfig;
  logitAdjustment @10 :Float64;  # tau of the local loss's logit adjustment (0 = off)
  localSteps @11 :UInt32;        # cap on optimizer steps per round (0 = localEpochs full passes)
  optimizerState @12 :Text;      # what the site's optimizer keeps between rounds: fresh | keep |
                                 # keep_scale ("" from older coordinators = fresh)
}

# site -> coordinator, first message after connecting.
struct Hello {
  siteId @0 :Text;
  softwareVersion @1 :Text;
  classNames @2 :List(Text);
  classCounts @3 :List(UInt64);  # empty when the site policy forbids sharing counts
  numTrain @4 :UInt64;
  numVal @5 :UInt64;
}

# coordinator -> site, answer to Hello.
struct Welcome {
  accepted @0 :Bool;
  reason @1 :Text;               # why not, when accepted is false
  runId @2 :Text;
  heartbeatMs @3 :UInt32;
  # The run's training plan (common/governance/plan.h): canonical JSON bytes and their SHA-256
  # in lowercase hex. A site trains only under a plan its operator approved.
  plan @4 :Data;
  planHash @5 :Text;
}

# coordinator -> site: train locally starting from `model`, answer with an Update.
struct TrainTask {
  round @0 :UInt32;
  model @1 :ModelBlob;
  arch @2 :Text;
  numClasses @3 :UInt32;
  inputSize @4 :UInt32;
  classNames @5 :List(Text);
  train @6 :TrainConfig;
  deadlineUnixMs @7 :Int64;
  taskId @8 :UInt64;
  # How the site answers, from the coordinator config (defaults: common/config.h).
  codecUp @9 :Text;              # uplink codec (models/codec.h), e.g. "sign1+q8"; required
  latentStart @10 :Text;         # sign1 downlinks: "glorot" | "epsilon"; required
  latentEpsilon @11 :Float64;    # sign1 downlinks: latent magnitude of a flipped sign, > 0
  secureAggregation @12 :Bool;   # answer through SecAgg+ (its SecAggSetup came first)
  # The pooled class distribution of the sites' training sets (one per class, summing to 1):
  # the target prior of the site's logit adjustment. Empty = a balanced target.
  classPrior @13 :List(Float64);
  # sign1 downlinks: the latent magnitude a site gives a weight whose sign the federation
  # flipped: "epsilon" (latentEpsilon) | "glorot". Empty (older coordinators) = "epsilon".
  latentFlip @14 :Text;
}

struct TrainMetrics {
  trainLoss @0 :Float64;
  trainAccuracy @1 :Float64;
  valLoss @2 :Float64;           # NaN when the site has no validation split
  valAccuracy @3 :Float64;
  numVal @4 :UInt64;
  trainSeconds @5 :Float64;
}

# site -> coordinator, answer to a TrainTask.
struct Update {
  round @0 :UInt32;
  taskId @1 :UInt64;
  numSamples @2 :UInt64;
  update @3 :ModelBlob;
  metrics @4 :TrainMetrics;
}

# coordinator -> site: evaluate `model` on the site's local data.
struct EvaluateTask {
  round @0 :UInt32;
  taskId @1 :UInt64;
  model @2 :ModelBlob;
  arch @3 :Text;
  numClasses @4 :UInt32;
  inputSize @5 :UInt32;
  classNames @6 :List(Text);
  deadlineUnixMs @7 :Int64;
  # Batch-norm recalibration (coordinator config bn_recalibration_images): > 0 asks the site to
  # recompute the model's BN statistics over up to this many of its training images, in batches
  # of bnCalibrationBatch, return them and evaluate with them; 0 = evaluate the model as sent.
  bnCalibrationImages @8 :UInt32;
  bnCalibrationBatch @9 :UInt32;
  # Protocol 6: the statistics go into the SecAgg+ session of this taskId (SecAggSetup purpose
  # bnStatistics) and never travel unmasked; the EvaluateResult then carries none.
  secureAggregation @10 :Bool;
}

# site -> coordinator, answer to an EvaluateTask.
struct EvaluateResult {
  round @0 :UInt32;
  taskId @1 :UInt64;
  loss @2 :Float64;
  accuracy @3 :Float64;
  numSamples @4 :UInt64;
  # Answer to bnCalibrationImages > 0: the model's BN running means and variances on the site's
  # images (a packed model of those tensors only, codec "f32"), and how many images they
  # summarise; empty and 0 otherwise.
  bnStatistics @5 :ModelBlob;
  bnImages @6 :UInt64;
}

# Either direction; proves liveness.
struct Heartbeat {
  sequence @0 :UInt64;
  unixMs @1 :Int64;
  # site -> coordinator: the hash of the run's training plan while it waits for this site's
  # approval (empty once approved, or when the site approves nothing): the coordinator waits for
  # it instead of counting the site's refusals as failures (protocol 5).
  pendingPlan @2 :Text;
}

enum ErrorCode {
  internal @0;
  badRequest @1;          # the message failed validation
  protocolVersion @2;     # the peer speaks another protocolVersion
  unknownSite @3;
  notAccepted @4;         # e.g. a task for a site that was not welcomed
  resourceExhausted @5;
  unavailable @6;
  wrongRun @7;            # runId does not match the current run
}

struct Error {
  code @0 :ErrorCode;
  message @1 :Text;
}

# site -> coordinator: the site policy refuses a task.
struct Refusal {
  taskId @0 :UInt64;
  round @1 :UInt32;
  reason @2 :Text;
}

# coordinator -> site: the run is over (or the site is dismissed); the site may disconnect.
struct Goodbye {
  reason @0 :Text;
}

# --- Secure aggregation (SecAgg+, secagg/) -----------------------------------------------
# One SecAgg+ round: SecAggSetup -> SecAggKeys* -> SecAggKeysRelay -> SecAggShares* ->
# SecAggSharesRelay -> (training) SecAggMasked* -> SecAggUnmaskRequest -> SecAggUnmaskResponse*.
# Every message carries the round and the task id of the TrainTask it belongs to. Keys are raw
# 32-byte X25519/Ed25519 public keys, signatures 64 bytes; secagg ids are 1..n.

struct SecAggSite {
  siteId @0 :Text;
  secaggId @1 :UInt32;
  signPublicKey @2 :Data;        # the site's long-term Ed25519 key from the allowlist
  voteWeight @3 :UInt32;         # sign-vote rounds: this site's vote weight, the same for all
                                 # sites (a site refuses unequal ones); else 0
  weight @4 :UInt64;             # the site's weight: min(its training-set size, weightCap), >= 1
}

# coordinator -> site: the round's SecAgg+ parameters and directory.
struct SecAggSetup {
  round @0 :UInt32;
  taskId @1 :UInt64;
  sites @2 :List(SecAggSite);
  threshold @3 :UInt32;
  neighbours @4 :UInt32;         # resolved k (never 0)
  maskBits @5 :UInt32;
  graphSeed @6 :Data;            # 32 bytes of public randomness for the neighbour graph
  clip @7 :Float64;              # clip of each scaled delta value
  totalWeight @8 :UInt64;        # sum of the selected sites' training-set sizes
  vectorLength @9 :UInt64;       # words per quantized update
  statClip @10 :Float64;         # clip of each scaled delta of BN running statistics
  voteBits @11 :UInt32;          # 0: every word is a quantized delta; else binary-conv weights
                                 # travel as sign votes packed voteBits wide (secagg/votes.h)
  weightCap @12 :UInt64;         # the coordinator's max_site_samples (bnStatistics: the
                                 # calibration images asked for)
  purpose @13 :SecAggPurpose;    # protocol 6: what the session sums
  modelSha256 @14 :Data;         # protocol 6: SHA-256 of the model blob of the session's task
                                 # (TrainTask or EvaluateTask): every survivor saw the same model
}

# What a SecAgg+ session sums (protocol 6). A site masks at most one input per purpose and round.
enum SecAggPurpose {
  training @0;       # the round's update, with the TrainTask of the same taskId
  bnStatistics @1;   # the new model's batch-norm moments (models/bn_statistics.h BnMomentsOf),
                     # with the EvaluateTask of the same taskId; protocol 7: the second moment
                     # is the site's variance alone (it was variance plus squared mean shift)
}

# site -> coordinator (stage 1).
struct SecAggKeys {
  round @0 :UInt32;
  taskId @1 :UInt64;
  cPk @2 :Data;
  sPk @3 :Data;
  signature @4 :Data;
}

struct SecAggPeerKeys {
  secaggId @0 :UInt32;
  cPk @1 :Data;
  sPk @2 :Data;
  signature @3 :Data;
}

# coordinator -> site: the neighbours' advertised keys.
struct SecAggKeysRelay {
  round @0 :UInt32;
  taskId @1 :UInt64;
  keys @2 :List(SecAggPeerKeys);
}

struct SecAggShare {
  from @0 :UInt32;
  to @1 :UInt32;
  ciphertext @2 :Data;           # AES-GCM sealed pair of Shamir shares
}

# site -> coordinator (stage 2).
struct SecAggShares {
  round @0 :UInt32;
  taskId @1 :UInt64;
  shares @2 :List(SecAggShare);
}

# coordinator -> site: the shares addressed to it.
struct SecAggSharesRelay {
  round @0 :UInt32;
  taskId @1 :UInt64;
  shares @2 :List(SecAggShare);
}

# site -> coordinator (stage 3), instead of an Update.
struct SecAggMasked {
  round @0 :UInt32;
  taskId @1 :UInt64;
  numSamples @2 :UInt64;
  masked @3 :Data;               # little-endian UInt32 words, vectorLength of them
  metrics @4 :TrainMetrics;
}

# coordinator -> survivors (stage 4).
struct SecAggUnmaskRequest {
  round @0 :UInt32;
  taskId @1 :UInt64;
  survivors @2 :List(UInt32);
  dropped @3 :List(UInt32);
  signatures @4 :List(SecAggSignedBy);  # consistency signatures of the site's share group
}

struct SecAggSignedBy {
  secaggId @0 :UInt32;
  signature @1 :Data;            # Ed25519 over secagg::ConsistencyPayload, 64 bytes
}

# coordinator -> survivors (consistency round, between stages 3 and 4): the survivor set.
struct SecAggConsistencyCheck {
  round @0 :UInt32;
  taskId @1 :UInt64;
  survivors @2 :List(UInt32);    # sorted ids of every site that sent a masked input
}

# survivor -> coordinator: its signature over the survivor set.
struct SecAggConsistencySignature {
  round @0 :UInt32;
  taskId @1 :UInt64;
  signature @2 :Data;            # 64 bytes
}

struct SecAggRevealedShare {
  owner @0 :UInt32;
  kind @1 :UInt8;                # 1 = share of b (owner survived), 2 = share of s_sk (dropped)
  share @2 :Data;                # secagg/shamir.h SerializeShare
}

# survivor -> coordinator (stage 4).
struct SecAggUnmaskResponse {
  round @0 :UInt32;
  taskId @1 :UInt64;
  shares @2 :List(SecAggRevealedShare);
}

struct Envelope {
  protocolVersion @0 :UInt16;
  runId @1 :Text;                # empty before the Welcome
  body :union {
    hello @2 :Hello;
    welcome @3 :Welcome;
    trainTask @4 :TrainTask;
    update @5 :Update;
    evaluateTask @6 :EvaluateTask;
    evaluateResult @7 :EvaluateResult;
    heartbeat @8 :Heartbeat;
    error @9 :Error;
    refusal @10 :Refusal;
    goodbye @11 :Goodbye;
    secaggSetup @12 :SecAggSetup;
    secaggKeys @13 :SecAggKeys;
    secaggKeysRelay @14 :SecAggKeysRelay;
    secaggShares @15 :SecAggShares;
    secaggSharesRelay @16 :SecAggSharesRelay;
    secaggMasked @17 :SecAggMasked;
    secaggUnmaskRequest @18 :SecAggUnmaskRequest;
    secaggUnmaskResponse @19 :SecAggUnmaskResponse;
    secaggConsistencyCheck @20 :SecAggConsistencyCheck;
    secaggConsistencySignature @21 :SecAggConsistencySignature;
  }
}
