#include "coordinator/status/status_service.h"

#include "coordinator/status/status_page.h"

namespace fedsmear {
namespace {

HttpResponse Json(const nlohmann::json& j) {
  return {200, "application/json", j.dump()};
}

}  // namespace

Result<std::unique_ptr<StatusService>> StatusService::Start(const HttpEndpointConfig& config,
                                                            const StatusModel* model) {
  std::map<std::string, HttpHandler> routes;
  routes["/"] = [] { return HttpResponse{200, "text/html; charset=utf-8", StatusPageHtml()}; };
  routes["/status.js"] = [] {
    return HttpResponse{200, "text/javascript; charset=utf-8", StatusPageScript()};
  };
  routes["/status.css"] = [] { return HttpResponse{200, "text/css; charset=utf-8", StatusPageStyle()}; };
  routes["/api/run"] = [model] { return Json(model->RunJson()); };
  routes["/api/rounds"] = [model] { return Json(model->RoundsJson()); };
  routes["/metrics"] = [model] {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", model->PrometheusText()};
  };
  routes["/healthz"] = [] { return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"}; };
  HttpServerOptions options;
  options.open_paths = {"/healthz", "/status.js", "/status.css"};  // no data in them
  options.login_form = true;
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
