// Endpoints from DNS SRV records, as etcdctl's --discovery-srv finds them:
// _etcd-client-ssl._tcp.<domain> (https) and _etcd-client._tcp.<domain> (http), with
// "-<name>" appended to the service when --discovery-srv-name is set. The lookup is injected so
// tests need no DNS server. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"

namespace edd::etcd {

struct SrvRecord {
  std::string target;  // host name, possibly with a trailing dot
  std::uint16_t port = 0;
};

// Returns the records of one SRV name; an empty list when the name does not exist.
using SrvLookup = std::function<Result<std::vector<SrvRecord>>(const std::string& name)>;

// The system resolver (res_query).
SrvLookup system_srv_lookup();

// insecure_discovery=false drops http:// endpoints, as etcdctl does.
Result<std::vector<std::string>> discover_srv_endpoints(const std::string& domain,
                                                        const std::string& service_name,
                                                        bool insecure_discovery,
                                                        const SrvLookup& lookup);

}  // namespace edd::etcd
