// Method + exact path -> handler, and the answers when nothing matches (404, 405 with Allow) or a
// handler throws (500, logged). No I/O: the server calls dispatch() once per parsed request.
// Thread-compatible: add routes before serving or on the event loop.
#pragma once

#include <map>
#include <string>

#include "http/message.h"

namespace edd::http {

class Router {
 public:
  // Registers (or replaces) the handler for `method` (e.g. "POST") on `path` (e.g. "/v1/defrag").
  void add(const std::string& method, const std::string& path, Handler handler);

  // Never throws: a throwing handler yields a 500 and a log line naming the route.
  Response dispatch(const Request& request, const LogSink& log) const;

 private:
  std::map<std::string, std::map<std::string, Handler>> routes_;  // path -> method -> handler
};

}  // namespace edd::http
