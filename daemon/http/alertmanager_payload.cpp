#include "http/alertmanager_payload.h"

#include <boost/json.hpp>

namespace edd::http {

namespace json = boost::json;

namespace {

Error bad(std::string why) {
  return make_error(ErrorCode::kInvalidArgument, "alertmanager payload: " + std::move(why));
}

const json::string* string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? &v->get_string() : nullptr;
}

}  // namespace

Result<AlertmanagerPayload> parse_alertmanager_payload(std::string_view body) {
  json::parse_options options;
  options.max_depth = 32;  // the payload is shallow; refuse anything deeper
  boost::system::error_code ec;
  json::value root = json::parse(body, ec, {}, options);
  if (ec) return bad("not JSON (" + ec.message() + ")");
  if (!root.is_object()) return bad("not a JSON object");
  const json::object& o = root.get_object();

  AlertmanagerPayload p;
  const json::string* version = string_field(o, "version");
  if (version == nullptr) return bad("missing \"version\"");
  p.version = std::string(*version);
  if (p.version != "4")
    return bad("unsupported version \"" + p.version.substr(0, 16) + "\" (want \"4\")");
  const json::string* group_key = string_field(o, "groupKey");
  if (group_key == nullptr) return bad("missing \"groupKey\"");
  p.group_key = std::string(*group_key);
  const json::string* status = string_field(o, "status");
  if (status == nullptr) return bad("missing \"status\"");
  p.status = std::string(*status);
  if (const json::string* receiver = string_field(o, "receiver"))
    p.receiver = std::string(*receiver);

  const json::value* alerts = o.if_contains("alerts");
  if (alerts == nullptr || !alerts->is_array()) return bad("missing \"alerts\" array");
  for (const json::value& a : alerts->get_array()) {
    if (!a.is_object()) return bad("an alert is not an object");
    const json::object& ao = a.get_object();
    Alert alert;
    const json::string* alert_status = string_field(ao, "status");
    if (alert_status == nullptr) return bad("an alert has no \"status\"");
    alert.status = std::string(*alert_status);
    const json::value* labels = ao.if_contains("labels");
    if (labels == nullptr || !labels->is_object()) return bad("an alert has no \"labels\" object");
    for (const auto& [k, v] : labels->get_object()) {
      if (!v.is_string())
        return bad("label \"" + std::string(k).substr(0, 64) + "\" is not a string");
      alert.labels.emplace(std::string(k), std::string(v.get_string()));
    }
    if (const json::string* f = string_field(ao, "fingerprint"))
      alert.fingerprint = std::string(*f);
    if (const json::string* s = string_field(ao, "startsAt")) alert.starts_at = std::string(*s);
    p.alerts.push_back(std::move(alert));
  }
  return p;
}

bool alert_matches(const Alert& alert, const LabelMatchers& matchers) {
  if (alert.status != "firing") return false;
  for (const auto& [label, value] : matchers) {
    auto it = alert.labels.find(label);
    if (it == alert.labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace edd::http
