#include "etcd/srv_discovery.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <array>

namespace edd::etcd {

SrvLookup system_srv_lookup() {
  return [](const std::string& name) -> Result<std::vector<SrvRecord>> {
    std::array<unsigned char, 8192> answer{};
    struct __res_state state {};
    if (res_ninit(&state) != 0) {
      return make_error(ErrorCode::kUnavailable, "cannot initialise the DNS resolver");
    }
    const int len =
        res_nquery(&state, name.c_str(), ns_c_in, ns_t_srv, answer.data(), answer.size());
    std::vector<SrvRecord> out;
    if (len < 0) {
      res_nclose(&state);
      return out;  // NXDOMAIN or no records: etcdctl treats a missing name as "none"
    }
    ns_msg msg{};
    if (ns_initparse(answer.data(), len, &msg) != 0) {
      res_nclose(&state);
      return make_error(ErrorCode::kUnavailable, "malformed DNS answer for " + name);
    }
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
      ns_rr rr{};
      if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_srv) continue;
      const unsigned char* rd = ns_rr_rdata(rr);
      if (ns_rr_rdlen(rr) < 7) continue;
      const auto port = static_cast<std::uint16_t>((rd[4] << 8) | rd[5]);
      char host[NS_MAXDNAME];
      if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6, host, sizeof host) < 0) continue;
      out.push_back({host, port});
    }
    res_nclose(&state);
    return out;
  };
}

Result<std::vector<std::string>> discover_srv_endpoints(const std::string& domain,
                                                        const std::string& service_name,
                                                        bool insecure_discovery,
                                                        const SrvLookup& lookup) {
  const std::string suffix = service_name.empty() ? "" : "-" + service_name;
  struct Query {
    std::string service;
    std::string scheme;
  };
  const Query queries[] = {{"_etcd-client-ssl" + suffix + "._tcp." + domain, "https://"},
                           {"_etcd-client" + suffix + "._tcp." + domain, "http://"}};
  std::vector<std::string> endpoints;
  for (const auto& q : queries) {
    if (q.scheme == "http://" && !insecure_discovery) continue;
    auto records = lookup(q.service);
    if (!records) return records.error();
    for (auto r : *records) {
      if (!r.target.empty() && r.target.back() == '.') r.target.pop_back();
      endpoints.push_back(q.scheme + r.target + ":" + std::to_string(r.port));
    }
  }
  if (endpoints.empty()) {
    return make_error(ErrorCode::kUnavailable,
                      "--discovery-srv: no SRV records for " + queries[0].service +
                          (insecure_discovery ? " or " + queries[1].service : ""));
  }
  return endpoints;
}

}  // namespace edd::etcd
