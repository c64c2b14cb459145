// Coordinator: runs a federated training run over a ServerTransport (common/net/transport.h):
// the ZeroMQ/CurveZMQ RouterEndpoint bound from the config, or one handed to Create (the
// in-process hub in tests and simulations).
//
// Lifecycle: bind -> wait for min_sites -> rounds -> final model and Goodbye. Each round:
// the strategy selects sites; each gets a TrainTask with the global model (downlink codec) and a
// deadline; the round's SumCollector (plain: updates validated — right round, task and site, not
// duplicated, same architecture and shapes, finite values — and summed as they arrive; SecAgg+:
// the masked stages) gives the strategy the survivors' sum; sites that refuse, fail or fall
// silent (no heartbeat for 3 intervals) are recorded as failures. The round completes at the
// deadline or when every selected site has answered; an attempt that cannot complete is retried
// (max_round_retries; sites waiting for their approval of the plan are waited for, up to
// approval_wait_s) and then the run stops with a reason — it never waits forever. After each round: central evaluation on the held-out sets,
// one line in RUN_DIR/metrics.jsonl, and a checkpoint. Resume continues after the last
// checkpointed round. A site that misbehaves (vanishes right after its hello, floods hellos
// without reading, or sends on another site's connection) is dropped and logged; it never ends
// the run.
//
// Thread-safety: Run() on one thread; `stop` may be set from elsewhere. Ownership: owns the
// transport, strategy and evaluator handed to Create().
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/net/transport.h"
#include "common/status.h"
#include "coordinator/strategy.h"
#include "train/central_eval.h"

namespace fedsmear {

class StatusModel;

// kInvalidArgument for `insecure: true` with secagg+ or a non-loopback bind, unless
// force_insecure is set (tests). Create() calls it.
Status CheckInsecureUse(const CoordinatorConfig& config);

class Coordinator {
 public:
  // `resume`: continue from RUN_DIR's latest valid checkpoint (fresh start when there is none).
  // `transport`: where sites are served; nullptr binds the config's ZeroMQ endpoint.
  static Result<std::unique_ptr<Coordinator>> Create(
      const CoordinatorConfig& config, std::unique_ptr<Strategy> strategy,
      std::unique_ptr<CentralEvaluator> evaluator, bool resume,
      std::unique_ptr<ServerTransport> transport = nullptr);
  ~Coordinator();

  // Runs the remaining rounds. OK when the run completed (or stopped early on a plateau).
  Status Run(const std::atomic<bool>& stop);

  // The bound endpoint (with the real port when the config asked for "*").
  std::string endpoint() const;
  // The status page's HTTP port (status.enabled; the real one when status.bind asked for port
  // 0), else 0.
  int status_port() const;
  // The run's live status (made by Create, updated by Run, final once Run returns): what a
  // long-lived coordinator's own endpoint serves for the job (coordinator/status/status_slot.h).
  std::shared_ptr<const StatusModel> status_model() const;

 private:
  struct Impl;
  explicit Coordinator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fedsmear
