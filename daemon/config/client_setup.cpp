#include "config/client_setup.h"

#include "config/file_access.h"

namespace edd::config {
namespace {

constexpr std::size_t kMaxSecretBytes = std::size_t{64} * 1024;

}  // namespace

Result<ClientSetup> make_client_options(const EtcdConfig& etcd) {
  ClientSetup setup;
  etcd::ClientOptions& o = setup.options;
  o.endpoints = etcd.endpoints;
  o.ca_file = etcd.cacert;
  o.cert_file = etcd.cert;
  o.key_file = etcd.key;
  o.user = etcd.user;
  o.dial_timeout = etcd.dial_timeout;
  o.command_timeout = etcd.command_timeout;
  if (etcd.password_file.empty()) return setup;

  auto file = read_small_file(etcd.password_file, kMaxSecretBytes);
  if (!file) {
    return make_error(ErrorCode::kInvalidArgument, "etcd.password_file: " + file.error().message);
  }
  std::string& password = file->bytes;
  if (password.ends_with("\r\n")) {
    password.resize(password.size() - 2);
  } else if (password.ends_with("\n")) {
    password.pop_back();
  }
  if (password.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "etcd.password_file: \"" + etcd.password_file + "\" is empty");
  }
  if ((file->mode & 0044U) != 0) {
    setup.warnings.push_back("etcd.password_file: \"" + etcd.password_file +
                             "\" is readable by group or others (mode " + format_mode(file->mode) +
                             "); chmod 600 it");
  }
  o.password = std::move(password);
  return setup;
}

}  // namespace edd::config
