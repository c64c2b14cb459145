#include "common/http/http_server.h"

#include <httplib.h>
#include <sys/socket.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <string_view>
#include <thread>

#include "common/file_util.h"
#include "common/http/http_auth.h"

namespace fedsmear {
namespace {

constexpr char kPlain[] = "text/plain; charset=utf-8";
constexpr char kHtml[] = "text/html; charset=utf-8";

// The login form: no script, no style, posts to this origin only (CSP form-action 'self').
std::string LoginPage(const std::string& message) {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<title>fedsmear: sign in</title></head><body>\n<h1>fedsmear</h1>\n<p>" +
         message +
         "</p>\n<form method=\"post\" action=\"/login\">\n<label>Token <input type=\"password\" "
         "name=\"token\" autocomplete=\"current-password\" autofocus required></label>\n"
         "<button type=\"submit\">Sign in</button>\n</form>\n</body></html>\n";
}

// `text` as a regular expression that matches exactly it (route paths are fixed strings).
std::string RegexLiteral(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// A browser navigating to a page (fetch() and programs ask for */* or JSON).
bool WantsHtml(const httplib::Request& req) {
  return req.get_header_value("Accept").find("text/html") != std::string::npos;
}

void Redirect(httplib::Response& res, const std::string& to) {
  res.status = 303;
  res.set_header("Location", to);
  res.set_content("see " + to + "\n", kPlain);
}

}  // namespace

struct HttpServer::Impl {
  httplib::Server server;
  std::thread thread;
  std::string host;
  int port = 0;
  std::string token;  // empty: no authentication
  HttpServerOptions options;

  bool Authorized(const httplib::Request& req) const {
    if (token.empty()) return true;
    if (TokenMatches(token, BearerToken(req.get_header_value("Authorization")))) return true;
    return TokenMatches(token, CookieValue(req.get_header_value("Cookie"), kTokenCookie));
  }

  void Unauthorized(const httplib::Request& req, httplib::Response& res) const {
    if (options.login_form && (req.path == "/" || WantsHtml(req))) return Redirect(res, "/login");
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_content(options.login_form
                        ? "a token is required: Authorization: Bearer TOKEN, or sign in at /login\n"
                        : "a bearer token is required (Authorization: Bearer TOKEN)\n",
                    kPlain);
  }

  void AddLogin() {
    server.Get("/login", [this](const httplib::Request&, httplib::Response& res) {
      if (token.empty()) return Redirect(res, "/");
      res.set_content(LoginPage("This page needs the status token."), kHtml);
    });
    server.Post("/login", [this](const httplib::Request& req, httplib::Response& res) {
      if (token.empty()) return Redirect(res, "/");
      if (!TokenMatches(token, FormValue(req.body, "token"))) {
        res.status = 401;
        res.set_content(LoginPage("That token is not the right one."), kHtml);
        return;
      }
      res.set_header("Set-Cookie", TokenCookieHeader(token));
      Redirect(res, "/");
    });
    server.Post("/logout", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Set-Cookie", TokenCookieHeader(""));
      Redirect(res, "/login");
    });
  }
};

bool IsSafePathItem(const std::string& item) {
  if (item.empty() || item.size() > 64 || item == "." || item == "..") return false;
  for (char c : item) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<std::pair<std::string, int>> ParseHostPort(const std::string& bind) {
  const size_t colon = bind.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument("HTTP bind address needs host:port, not '" + bind + "'");
  }
  std::string host = bind.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:9464
  }
  const std::string port = bind.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    return InvalidArgument("HTTP bind address '" + bind + "' has no valid port (0-65535)");
  }
  return std::make_pair(host, std::stoi(port));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int HttpServer::port() const { return impl_->port; }
std::string HttpServer::host() const { return impl_->host; }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpEndpointConfig& config,
                                                      std::map<std::string, HttpHandler> routes,
                                                      HttpServerOptions options) {
  auto impl = std::make_unique<Impl>();
  ASSIGN_OR_RETURN(auto host_port, ParseHostPort(config.bind));
  impl->host = host_port.first;
  impl->options = std::move(options);
  if (!config.token_file.empty()) {
    ASSIGN_OR_RETURN(std::string token, ReadFile(config.token_file));
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
    if (token.empty()) return InvalidArgument("token_file " + config.token_file + " is empty");
    impl->token = token;
  }
  Impl* self = impl.get();
  self->server.set_default_headers({{"Content-Security-Policy", kContentSecurityPolicy},
                                    {"X-Content-Type-Options", "nosniff"},
                                    {"Referrer-Policy", "no-referrer"},
                                    {"X-Frame-Options", "DENY"},
                                    {"Cache-Control", "no-store"}});
  self->server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!QueryHasToken(req.target)) return httplib::Server::HandlerResponse::Unhandled;
    res.status = 400;
    res.set_content("a token in the URL is refused (it would stay in histories and logs): send "
                    "Authorization: Bearer TOKEN, or sign in at /login\n",
                    kPlain);
    return httplib::Server::HandlerResponse::Handled;
  });
  auto answer = [](const HttpResponse& r, httplib::Response& res) {
    res.status = r.status;
    for (const auto& [name, value] : r.headers) res.set_header(name, value);
    res.set_content(r.body, r.content_type);
  };
  for (auto& [path, handler] : routes) {
    const bool open = self->options.open_paths.count(path) > 0;
    self->server.Get(RegexLiteral(path), [self, open, answer, h = handler](
                                             const httplib::Request& req, httplib::Response& res) {
      if (!open && !self->Authorized(req)) return self->Unauthorized(req, res);
      answer(h(), res);
    });
  }
  for (auto& [prefix, handler] : self->options.item_routes) {
    // One segment of the decoded path; IsSafePathItem narrows it further before the handler.
    self->server.Get(RegexLiteral(prefix) + "([^/]+)", [self, answer, h = handler](
                                                          const httplib::Request& req,
                                                          httplib::Response& res) {
      if (!self->Authorized(req)) return self->Unauthorized(req, res);
      const std::string item = req.matches.size() > 1 ? req.matches[1].str() : std::string();
      if (!IsSafePathItem(item)) {
        res.status = 404;
        res.set_content("not found\n", kPlain);
        return;
      }
      answer(h(item), res);
    });
  }
  if (self->options.login_form) self->AddLogin();
  self->server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) res.set_content("not found\n", kPlain);
  });
  self->server.new_task_queue = [] { return new httplib::ThreadPool(2); };
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second process
  // share the port silently instead of failing to start.
  self->server.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  if (host_port.second == 0) {
    self->port = self->server.bind_to_any_port(impl->host);
  } else if (self->server.bind_to_port(impl->host, host_port.second)) {
    self->port = host_port.second;
  } else {
    self->port = -1;
  }
  if (self->port <= 0) {
    return Unavailable("cannot listen for HTTP on " + config.bind +
                       " (address in use, or not an address of this host)");
  }
  self->thread = std::thread([self] { self->server.listen_after_bind(); });
  // httplib's stop() does nothing before listening has begun: wait for it, so that a server
  // destroyed right after Start() still stops.
  for (int i = 0; i < 500 && !self->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

}  // namespace fedsmear
