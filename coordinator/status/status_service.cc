#include "coordinator/status/status_service.h"

#include "common/http/process_metrics.h"
#include "coordinator/status/job_pages.h"
#include "coordinator/status/status_page.h"

namespace fedsmear {
namespace {

constexpr char kPrometheusType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kPlain[] = "text/plain; charset=utf-8";

HttpResponse Json(const nlohmann::json& j) {
  return {200, "application/json", j.dump()};
}

HttpResponse Error(int status, const std::string& message) {
  return {status, kPlain, message + "\n"};
}

HttpResponse Page() { return {200, "text/html; charset=utf-8", StatusPageHtml()}; }

// The routes both kinds of endpoint serve: the page's files and /healthz.
std::map<std::string, HttpHandler> PageRoutes() {
  std::map<std::string, HttpHandler> routes;
  routes["/"] = [] { return Page(); };
  routes["/status.js"] = [] {
    return HttpResponse{200, "text/javascript; charset=utf-8", StatusPageScript()};
  };
  routes["/status.css"] = [] { return HttpResponse{200, "text/css; charset=utf-8", StatusPageStyle()}; };
  routes["/healthz"] = [] { return HttpResponse{200, kPlain, "ok\n"}; };
  return routes;
}

HttpServerOptions PageOptions() {
  HttpServerOptions options;
  options.open_paths = {"/healthz", "/status.js", "/status.css"};  // no data in them
  options.login_form = true;
  return options;
}

// The job named by a URL item, or the response that says why there is none. The id is checked
// before anything is looked up, and only a checked id is ever echoed.
Result<JobRecord> FindJob(const JobListing& jobs, const std::string& item, HttpResponse* refusal) {
  if (!IsJobId(item)) {
    *refusal = Error(404, "not a job id (job-NNNN)");
    return NotFound("not a job id");
  }
  Result<JobRecord> job = jobs.Job(item);
  if (job.ok()) return job;
  *refusal = job.status().code() == StatusCode::kNotFound
                 ? Error(404, "no job " + item)
                 : Error(500, "cannot read job " + item);
  return job.status();
}

}  // namespace

Result<std::unique_ptr<StatusService>> StatusService::Start(const HttpEndpointConfig& config,
                                                            const StatusModel* model) {
  std::map<std::string, HttpHandler> routes = PageRoutes();
  routes["/api/run"] = [model] { return Json(model->RunJson()); };
  routes["/api/rounds"] = [model] { return Json(model->RoundsJson()); };
  routes["/metrics"] = [model] {
    return HttpResponse{200, kPrometheusType, model->PrometheusText()};
  };
  ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> server,
                   HttpServer::Start(config, std::move(routes), PageOptions()));
  return std::unique_ptr<StatusService>(new StatusService(std::move(server)));
}

Result<std::unique_ptr<StatusService>> StatusService::StartForJobs(const HttpEndpointConfig& config,
                                                                   const StatusSlot* live,
                                                                   const JobListing* jobs) {
  // What /api/run and /api/rounds show before the first job starts.
  auto idle = std::make_shared<StatusModel>(StatusRunInfo{});
  idle->SetStage(0, "idle", "no job has started yet");
  auto current = [live, idle] {
    StatusSlot::Live now = live->Current();
    if (!now.model) now.model = idle;
    return now;
  };
  std::map<std::string, HttpHandler> routes = PageRoutes();
  routes["/api/run"] = [current] {
    StatusSlot::Live now = current();
    nlohmann::json run = now.model->RunJson();
    run["job"] = now.job_id;
    return Json(run);
  };
  routes["/api/rounds"] = [current] { return Json(current().model->RoundsJson()); };
  routes["/api/jobs"] = [live, jobs] {
    Result<std::vector<JobSummary>> all = jobs->Jobs();
    if (!all.ok()) return Error(500, "cannot read the jobs folder: " + all.status().message());
    return Json(JobsJson(*all, live->Current().job_id));
  };
  routes["/metrics"] = [live, jobs] {
    StatusSlot::Live now = live->Current();
    std::string text = now.model ? now.model->PrometheusText() : WithProcessMetrics("");
    if (Result<std::vector<JobSummary>> all = jobs->Jobs(); all.ok()) {
      text += JobsPrometheusText(*all);
    }
    return HttpResponse{200, kPrometheusType, text};
  };
  HttpServerOptions options = PageOptions();
  options.item_routes["/jobs/"] = [jobs](const std::string& item) {
    HttpResponse refusal;
    return FindJob(*jobs, item, &refusal).ok() ? Page() : refusal;
  };
  options.item_routes["/api/jobs/"] = [live, jobs](const std::string& item) {
    HttpResponse refusal;
    Result<JobRecord> job = FindJob(*jobs, item, &refusal);
    if (!job.ok()) return refusal;
    Result<nlohmann::json> detail = JobDetailJson(*job, live->Current());
    if (!detail.ok()) return Error(500, detail.status().message());
    return Json(*detail);
  };
  ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> server,
                   HttpServer::Start(config, std::move(routes), std::move(options)));
  return std::unique_ptr<StatusService>(new StatusService(std::move(server)));
}

std::string StatusService::url() const {
  const std::string host = server_->host();
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port()) + "/";
}

}  // namespace fedsmear
