// A throw-away certificate authority for TLS test clusters, generated with the openssl command
// line: one server certificate shared by every member (clients and peers), one client
// certificate with CN "root". Valid for two days unless a test asks for other lifetimes; no
// shared state.
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

// How long each certificate is valid from now (openssl -days): e.g. a server certificate that
// expires in 5 days for the certificate-expiry tests. The CA lives as long as the longest.
struct PkiLifetimes {
  int server_days = 2;
  int client_days = 2;
};

// Writes the keys and certificates into dir (created if needed). Throws std::runtime_error
// with openssl's stderr on failure.
TestPki generate_test_pki(const std::filesystem::path& dir, const PkiLifetimes& lifetimes = {});

}  // namespace edd::test
