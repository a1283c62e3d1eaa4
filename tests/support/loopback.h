// Loopback ports for the servers a test starts itself (Prometheus, the daemon's listener).
#pragma once

namespace edd::test {

// A loopback port nobody listens on right now (whoever starts on it may still lose a race with
// another process; the callers retry or fail naming the port). Throws when none can be bound.
int free_loopback_port();

}  // namespace edd::test
