// Coordinator::Impl::StartStatus: the live status model and its optional HTTP endpoint.
#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "coordinator/server_impl.h"

namespace fedsmear {

Status Coordinator::Impl::StartStatus(bool restored) {
  StatusRunInfo info;
  info.run_id = run_id;
  info.strategy = strategy->name();
  info.codec_down = config.codec_down;
  info.codec_up = config.codec_up;
  info.secure_aggregation = config.secure_aggregation != SecureAggregation::kOff;
  info.rounds_planned = config.rounds;
  info.min_sites = config.min_sites;
  info.heartbeat_s = config.heartbeat_s;
  info.round_deadline_s = config.round_deadline_s;
  status = std::make_shared<StatusModel>(info);
  if (restored) {
    Result<std::string> history = ReadFile(config.run_dir + "/metrics.jsonl");
    if (history.ok()) status->LoadHistory(*history);
  }
  if (!config.status.enabled) return Status::Ok();
  Result<std::unique_ptr<StatusService>> service = StatusService::Start(config.status, status.get());
  if (!service.ok()) {
    return service.status().WithContext("status page (status.bind " + config.status.bind + ")");
  }
  status_service = std::move(*service);
  spdlog::info("status page on {} (metrics at /metrics{})", status_service->url(),
               config.status.token_file.empty() ? "" : ", bearer token required");
  return Status::Ok();
}

}  // namespace fedsmear
