#include "harness/pki.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "harness/process.h"
#include "harness/test_record.h"

namespace edd::test {
namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult result = run_command(argv, std::chrono::seconds(30));
  if (result.exit_code != 0) {
    throw std::runtime_error("edd::test: openssl " + args.front() + " failed: " + result.err);
  }
}

// An EC P-256 key and a certificate signing request for subject.
void new_key_and_request(const std::string& stem, const std::string& subject) {
  openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", stem + ".key", "-out", stem + ".csr", "-subj", subject});
}

void sign(const std::filesystem::path& dir, const std::string& stem, const std::string& serial,
          const std::string& extensions, int days) {
  std::string ext_file = (dir / (stem + ".ext")).string();
  std::ofstream(ext_file) << extensions;
  openssl({"x509", "-req", "-in", (dir / (stem + ".csr")).string(), "-CA",
           (dir / "ca.crt").string(), "-CAkey", (dir / "ca.key").string(), "-set_serial", serial,
           "-days", std::to_string(days), "-out", (dir / (stem + ".crt")).string(), "-extfile",
           ext_file});
}

}  // namespace

TestPki generate_test_pki(const std::filesystem::path& dir, const PkiLifetimes& lifetimes) {
  std::filesystem::create_directories(dir);
  auto path = [&](const std::string& name) { return (dir / name).string(); };
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", path("ca.key"), "-out", path("ca.crt"), "-days",
           std::to_string(std::max({2, lifetimes.server_days, lifetimes.client_days})), "-subj",
           "/CN=edd-test-ca", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
           "keyUsage=critical,keyCertSign,cRLSign"});
  new_key_and_request(path("server"), "/CN=edd-member");
  sign(dir, "server", "2",
       "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
       "extendedKeyUsage=serverAuth,clientAuth\n"
       "keyUsage=critical,digitalSignature,keyEncipherment\n"
       "basicConstraints=CA:FALSE\n",
       lifetimes.server_days);
  new_key_and_request(path("client"), "/CN=root");
  sign(dir, "client", "3",
       "extendedKeyUsage=clientAuth\n"
       "keyUsage=critical,digitalSignature,keyEncipherment\n"
       "basicConstraints=CA:FALSE\n",
       lifetimes.client_days);
  for (const char* key : {"ca.key", "server.key", "client.key"}) remember_key_file(path(key));
  return TestPki{path("ca.crt"), path("server.crt"), path("server.key"), path("client.crt"),
                 path("client.key")};
}

}  // namespace edd::test
