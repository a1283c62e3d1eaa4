// What a route handler sees and returns: plain values with no Beast types, so modules that add
// routes (the webhook, the status page) stay free of Boost headers. Thread-compatible.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edd::http {

struct Request {
  std::string method;                                        // "GET", "POST", ... as sent
  std::string target;                                        // path and query as sent
  std::string path;                                          // target up to '?'
  std::string query;                                         // after '?', not decoded
  std::vector<std::pair<std::string, std::string>> headers;  // in the order received
  std::string body;
  std::string remote_address;  // "ip:port" of the peer, for logs
  bool tls = false;

  // The first header of that name (case-insensitive), or "" when absent.
  std::string_view header(std::string_view name) const;
};

struct Response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. WWW-Authenticate

  static Response text(unsigned status, std::string body);  // adds a final newline if missing
  static Response json(unsigned status, std::string body);
};

// Runs on the server's event loop: answer quickly, post long work elsewhere (the webhook
// answers 202 and queues its run). An exception becomes a 500; the server keeps serving.
using Handler = std::function<Response(const Request&)>;

enum class LogLevel { kDebug, kInfo, kWarning, kError };
// Must not throw (what it throws is swallowed); called on the event loop.
using LogSink = std::function<void(LogLevel, const std::string&)>;

}  // namespace edd::http
