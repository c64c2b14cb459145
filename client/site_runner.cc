// The site's task runner: hands the coordinator's tasks to the trainer, the evaluator and the
// secure aggregation session, and delivers what the worker thread produced. One task runs at a
// time on the worker (std::async); a train task that arrives meanwhile is queued.
#include <spdlog/spdlog.h>

#include "client/site_connection.h"
#include "client/site_impl.h"
#include "client/site_plan.h"

namespace fedsmear {

using std::chrono::milliseconds;

Result<wire::Body> Site::ToSession(SecAggInput input, const SendFn& send) {
  Impl& s = *impl_;
  // Never sent as is: only the session's masked form leaves the site.
  if (!s.secagg || s.secagg->task_id() != input.task_id) {
    spdlog::warn("task {}: its secure aggregation round is over; result dropped", input.task_id);
    return wire::Body(wire::Heartbeat{});
  }
  if (Status st = s.secagg->SetInput(std::move(input)); !st.ok()) {
    return wire::Body(wire::Error{wire::ErrorCode::kInternal, st.message()});
  }
  RETURN_IF_ERROR(SendMaskedIfReady(send));
  return wire::Body(wire::Heartbeat{});
}

Status Site::DeliverWork(const SendFn& send) {
  Impl& s = *impl_;
  // Deliver a finished task's reply; keep trying until it goes through.
  if (s.work.valid() && s.work.wait_for(milliseconds(0)) == std::future_status::ready) {
    Result<WorkOutput> out = s.work.get();
    Result<wire::Body> reply = wire::Body(wire::Heartbeat{});
    if (!out.ok()) {
      spdlog::error("task {} failed: {}", s.work_task_id, out.status().ToString());
      reply = wire::Body(wire::Error{wire::ErrorCode::kInternal, out.status().message()});
    } else if (auto* input = std::get_if<SecAggInput>(&*out)) {
      reply = ToSession(std::move(*input), send);
    } else if (auto* evaluated = std::get_if<SiteEvaluation>(&*out)) {
      // The statistics go into their session (masked), the scores as the reply.
      if (evaluated->input) reply = ToSession(std::move(*evaluated->input), send);
      if (reply.ok() && std::holds_alternative<wire::Heartbeat>(*reply)) {
        reply = wire::Body(std::move(evaluated->result));
      }
    } else {
      reply = std::get<wire::Body>(std::move(*out));
    }
    RETURN_IF_ERROR(reply.status());  // the session could not send its masked input
    if (!std::holds_alternative<wire::Heartbeat>(*reply)) {
      Status st = send(*reply, milliseconds(30000));
      if (!st.ok()) {
        spdlog::warn("could not deliver the reply of task {}: {}", s.work_task_id, st.message());
      }
    }
  }
  if (!s.work.valid() && s.queued) {
    wire::TrainTask next = std::move(*s.queued);
    s.queued.reset();
    RETURN_IF_ERROR(StartTraining(std::move(next), s.queued_run_id, send));
  }
  return Status::Ok();
}

Status Site::Dispatch(wire::Message& msg, SiteConnection& connection, const SendFn& send) {
  Impl& s = *impl_;
  if (auto* t = std::get_if<wire::TrainTask>(&msg.body)) {
    connection.set_run_id(msg.run_id);
    // A resumed coordinator re-issues the interrupted round's tasks with the same ids: the
    // one already running (or queued) will answer it.
    if ((s.work.valid() && s.work_task_id == t->task_id) ||
        (s.queued && s.queued->task_id == t->task_id)) {
      spdlog::info("round {} task {} is already in hand: duplicate ignored", t->round,
                   t->task_id);
      return Status::Ok();
    }
    if (s.work.valid()) {
      spdlog::info("round {} task queued until the current task ends", t->round);
      s.queued = std::move(*t);
      s.queued_run_id = msg.run_id;
      return Status::Ok();
    }
    return StartTraining(std::move(*t), msg.run_id, send);
  }
  if (auto* e = std::get_if<wire::EvaluateTask>(&msg.body)) {
    if (s.work.valid()) {
      (void)send(wire::Refusal{e->task_id, e->round, "busy with another task"}, milliseconds(1000));
      return Status::Ok();
    }
    if (std::string why = governance_->Admit(*e); !why.empty()) {
      spdlog::warn("refusing evaluation of round {}: {}", e->round, why);
      (void)send(wire::Refusal{e->task_id, e->round, why}, milliseconds(1000));
      return Status::Ok();
    }
    std::optional<wire::SecAggSetup> setup;
    if (e->secure_aggregation) {
      // Statistics without their session would have to travel in the clear: refused.
      if (!s.secagg || s.secagg->task_id() != e->task_id ||
          s.secagg->setup().purpose != wire::SecAggPurpose::kBnStatistics) {
        (void)send(wire::Refusal{e->task_id, e->round,
                                 "no secure aggregation session for the statistics of task"},
                   milliseconds(1000));
        return Status::Ok();
      }
      if (Status st = CheckSessionModel(s.secagg->setup(), e->model.data); !st.ok()) {
        spdlog::warn("refusing the statistics of round {}: {}", e->round, st.message());
        (void)send(wire::Refusal{e->task_id, e->round, st.message()}, milliseconds(1000));
        return Status::Ok();
      }
      setup = s.secagg->setup();
    }
    s.work_task_id = e->task_id;
    s.work = std::async(std::launch::async, [this, task = *e, setup = std::move(setup)] {
      std::optional<WorkGate::Slot> slot;
      if (gate_) slot.emplace(*gate_, /*measured=*/false);
      return AsWork(EvaluateGlobal(task, setup));
    });
    return Status::Ok();
  }
  if (std::holds_alternative<wire::SecAggSetup>(msg.body) ||
      std::holds_alternative<wire::SecAggKeysRelay>(msg.body) ||
      std::holds_alternative<wire::SecAggSharesRelay>(msg.body) ||
      std::holds_alternative<wire::SecAggConsistencyCheck>(msg.body) ||
      std::holds_alternative<wire::SecAggUnmaskRequest>(msg.body)) {
    connection.set_run_id(msg.run_id);
    return HandleSecAgg(msg.body, msg.run_id, send);
  }
  return Status::Ok();
}

}  // namespace fedsmear
