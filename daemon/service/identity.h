// Who this daemon is, to the other daemons and to people.
#pragma once

#include <string>

#include "config/config.h"

namespace edd::service {

// This host, stably across restarts and, unlike hostnames, unique: derived from /etc/machine-id
// with an application key, as systemd asks (the machine ID itself is not to be exposed). ""
// when there is no machine ID.
std::string host_id();

// The lock key's value and the last-run record's actor: the hostname and local member for people,
// the host ID so that a restarted daemon recognises its predecessor's key and never another
// host's (two hosts may share a hostname and a local endpoint such as 127.0.0.1:2379).
std::string daemon_identity(const config::Config& c, const std::string& host_id);

// The last path segment of the lock prefix is the lock; the record sits beside it, outside the
// prefix so it never takes part in the election.
std::string last_run_key(const std::string& lock_prefix);

}  // namespace edd::service
