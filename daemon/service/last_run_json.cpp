#include "service/last_run_json.h"

#include <boost/json.hpp>

namespace edd::service {

namespace json = boost::json;

std::string encode_last_run_json(const LastRun& run) {
  return json::serialize(json::object{{"time", run.unix_seconds},
                                      {"result", run.result},
                                      {"actor", run.actor},
                                      {"trigger", run.trigger}});
}

namespace {

void read_string(const json::object& o, const char* key, std::string& out) {
  if (const auto* v = o.if_contains(key); v && v->is_string()) out = v->as_string();
}

}  // namespace

std::optional<LastRun> decode_last_run_json(const std::string& text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  LastRun run;
  if (const auto* t = o.if_contains("time"); t && t->is_int64()) run.unix_seconds = t->as_int64();
  read_string(o, "result", run.result);
  read_string(o, "actor", run.actor);
  read_string(o, "trigger", run.trigger);
  return run;
}

}  // namespace edd::service
