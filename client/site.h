// Site: the hospital daemon's logic. Loads the site's images, connects out to the coordinator,
// says hello, and then answers tasks until the coordinator says goodbye. Its parts: the
// connection (client/site_connection.h: hello, welcome, heartbeats over a SiteTransport) and
// the task runner (site_runner.cc), which hands each task to its handler:
// Every task is first admitted against the training plan this site approved (client/site_plan.h)
// and every message sent is recorded in the site's audit log first.
//   TrainTask    -> policy check -> local training on the train split -> Update (or Refusal);
//                   under policy.require_secure_aggregation a task that is not a SecAgg+ round
//                   is refused (secagg/site_policy.h), whatever the coordinator asks
//   EvaluateTask -> metrics of the received model on the validation split -> EvaluateResult
//   SecAggSetup  -> secure aggregation session (secagg/site_secagg.h): its stages are answered on
//                   the main loop while the matching TrainTask trains; the trained delta is
//                   masked and sent as SecAggMasked instead of an Update. A setup the site cannot
//                   or will not join is answered with a Refusal.
// Training runs on a worker thread so that heartbeats keep flowing while it runs. When the
// coordinator restarts and no longer knows the site, it answers with an UnknownSite error and
// the site introduces itself again; ZeroMQ reconnects by itself.
//
// Thread-safety: Run() is called once, from one thread; RequestStop() may be called from any
// thread (e.g. a signal handler's flag). Ownership: owns its dataset, model and endpoint.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "client/work_gate.h"
#include "common/config.h"
#include "common/net/transport.h"
#include "common/status.h"
#include "common/wire/messages.h"
#include "data/dataset.h"
#include "data/split.h"
#include "models/model_state.h"
#include "secagg/site_policy.h"
#include "secagg/site_secagg.h"

namespace fedsmear {

class SiteGovernance;  // client/site_plan.h
struct OptimizerState;  // train/optimizer_state.h
class SiteConnection;  // client/site_connection.h

// What an evaluate task produced: the reply, and for a secure batch-norm session the input it
// hands to that session (never sent as such).
struct SiteEvaluation {
  wire::EvaluateResult result;
  std::optional<SecAggInput> input;
};

class Site {
 public:
  // Scans the site's data and builds the train/validation split. Errors: missing data, a
  // dataset without images.
  static Result<std::unique_ptr<Site>> Create(const ClientConfig& config);
  ~Site();

  // Serves tasks until Goodbye (OK), a stop request (Aborted) or a fatal error, over a ZeroMQ
  // DealerEndpoint built from the config.
  Status Run(const std::atomic<bool>& stop);
  // The same over a given transport (the in-process hub of a simulation), which must outlive
  // the call.
  Status Serve(SiteTransport& transport, const std::atomic<bool>& stop);

  const Dataset& dataset() const { return dataset_; }
  // Training and evaluation wait for a slot of `gate` (simulations of many sites); call before
  // Run/Serve.
  void set_work_gate(std::shared_ptr<WorkGate> gate) { gate_ = std::move(gate); }
  // SecAgg+ signature checks shared with the other sites of this process (secagg/verify_memo.h).
  void set_verify_memo(std::shared_ptr<secagg::VerifyMemo> memo) { memo_ = std::move(memo); }

 private:
  struct Impl;
  using SendFn = std::function<Status(wire::Body, std::chrono::milliseconds)>;
  explicit Site(const ClientConfig& config);
  // The task runner (client/site_runner.cc): delivers the worker's finished reply (and starts a
  // queued train task), and dispatches task traffic to the trainer, evaluator and SecAgg+.
  Status DeliverWork(const SendFn& send);
  // Hands a secure input to its session (sending the masked form when the shares are in); the
  // reply to send besides (a Heartbeat: none).
  Result<wire::Body> ToSession(SecAggInput input, const SendFn& send);
  Status Dispatch(wire::Message& msg, SiteConnection& connection, const SendFn& send);
  // Maps the site's data onto the task's class order (rescanning when it differs) and checks
  // the site policy: "" when the task is acceptable, else the reason to refuse it.
  Result<std::string> PrepareTask(const std::vector<std::string>& class_names, int epochs);
  // Checks the task against the site policy and starts training on the worker thread (or
  // sends a Refusal).
  // Called with no work in flight, so it may reset the run's training state (AdoptRun).
  Status StartTraining(wire::TrainTask task, const std::string& run_id,
                       const std::function<Status(wire::Body, std::chrono::milliseconds)>& send);
  // The training state below (latent_, optimizer_state_) belongs to one run: a task of another
  // run (a new run of the same consortium, a restarted coordinator that began afresh) starts
  // without it. The first run seen, or state saved without a run id, is adopted as is.
  void AdoptRun(const std::string& run_id);
  // Secure aggregation traffic (secagg/site_secagg.cc drives the crypto); `run_id`: the
  // Envelope's, bound into the session's transcript and its SessionLedger entry.
  Status HandleSecAgg(wire::Body& body, const std::string& run_id,
                      const std::function<Status(wire::Body, std::chrono::milliseconds)>& send);
  Status SendMaskedIfReady(
      const std::function<Status(wire::Body, std::chrono::milliseconds)>& send);
  // Worker-thread bodies (client/site_tasks.cc); they read dataset_/split_, never write them.
  struct Trained {
    ModelState global;    // what the task's model blob holds
    ModelState trained;   // after local training
    wire::Update update;  // everything but the update blob
    uint64_t seed = 0;
  };
  Result<Trained> TrainModel(const wire::TrainTask& task);
  Result<wire::Body> Train(const wire::TrainTask& task);
  // Trains and returns the round's quantized vector (weighted delta, or sign votes and delta)
  // for a secure aggregation round set up by `setup`.
  Result<SecAggInput> TrainSecure(const wire::TrainTask& task, const wire::SecAggSetup& setup);
  // Scores the task's model on the validation split; with bn_calibration_images, first
  // recomputes its batch-norm statistics on the training images (and scores with them). Plain,
  // the statistics travel in the result (never under policy.require_secure_aggregation); with
  // `setup` (the task's kBnStatistics session) they become the session's input instead.
  Result<SiteEvaluation> EvaluateGlobal(const wire::EvaluateTask& task,
                                   const std::optional<wire::SecAggSetup>& setup);
  // Restores latent_ (client/latent_store.h) and optimizer_state_ (client/optimizer_store.h)
  // from config_.state_dir, where saved; damaged files are set aside and cost only the state.
  void LoadTrainingState();
  void LoadOptimizer();

  ClientConfig config_;
  Dataset dataset_;
  TrainValIndices split_;
  std::vector<std::string> class_order_;  // the class order dataset_ was scanned with
  ModelState latent_;  // this site's latent weights after its last round (sign1 downlinks)
  std::string state_run_id_;  // the run latent_ and optimizer_state_ come from; "" = unknown
  // The optimizer's moments after this site's last round, kept as the task's
  // train.optimizer_state says, and with state_dir set also on disk (client/optimizer_store.h).
  std::unique_ptr<OptimizerState> optimizer_state_;
  std::optional<secagg::Secret32> signing_seed_;  // Ed25519 identity (signing_key_file)
  SecAggPolicy secagg_policy_;                    // policy.* secure aggregation rules + roster
  std::unique_ptr<Impl> impl_;
  // Plan approval, task admission and the audit log (client/site_plan.h), and what the last
  // trained model holds (set by the worker, read for the audit log's update descriptions).
  std::unique_ptr<SiteGovernance> governance_;
  std::atomic<uint64_t> trained_binary_{0};
  std::atomic<uint64_t> trained_float_{0};
  std::shared_ptr<WorkGate> gate_;  // optional (set_work_gate)
  std::shared_ptr<secagg::VerifyMemo> memo_;  // optional (set_verify_memo)
};

}  // namespace fedsmear
