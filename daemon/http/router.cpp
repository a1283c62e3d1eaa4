#include "http/router.h"

#include <exception>

namespace edd::http {
namespace {

void log_quietly(const LogSink& log, LogLevel level, const std::string& line) {
  if (!log) return;
  try {
    log(level, line);
  } catch (...) {  // logging never takes the server down
  }
}

}  // namespace

void Router::add(const std::string& method, const std::string& path, Handler handler) {
  routes_[path][method] = std::move(handler);
}

Response Router::dispatch(const Request& request, const LogSink& log) const {
  const auto by_path = routes_.find(request.path);
  if (by_path == routes_.end()) return Response::text(404, "not found");
  const auto& methods = by_path->second;
  const auto handler = methods.find(request.method);
  if (handler == methods.end()) {
    std::string allow;
    for (const auto& entry : methods) allow += (allow.empty() ? "" : ", ") + entry.first;
    auto response = Response::text(405, "method not allowed");
    response.headers.emplace_back("Allow", allow);
    return response;
  }
  const std::string route = request.method + " " + request.path;
  try {
    return handler->second(request);
  } catch (const std::exception& e) {
    log_quietly(log, LogLevel::kError, "http: " + route + ": handler failed: " + e.what());
  } catch (...) {
    log_quietly(log, LogLevel::kError, "http: " + route + ": handler failed");
  }
  return Response::text(500, "internal error");
}

}  // namespace edd::http
