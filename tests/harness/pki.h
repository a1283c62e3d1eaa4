// A throw-away certificate authority for TLS test clusters, generated with the openssl command
// line: one server certificate shared by every member (clients and peers), one client
// certificate with CN "root". Valid for two days; no shared state.
#pragma once

#include <filesystem>
#include <string>

namespace edd::test {

struct TestPki {
  std::string ca_file;
  std::string server_cert_file;  // SAN IP:127.0.0.1, DNS:localhost; serverAuth and clientAuth
  std::string server_key_file;
  std::string client_cert_file;  // CN root: etcd takes the CN as the user name
  std::string client_key_file;
};

// Writes the keys and certificates into dir (created if needed). Throws std::runtime_error
// with openssl's stderr on failure.
TestPki generate_test_pki(const std::filesystem::path& dir);

}  // namespace edd::test
