// Secrets never leave their files: the etcd password and the webhook token appear in no log
// line, no HTTP answer and no CLI output, whatever a user does right or wrong.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "harness/test_record.h"
#include "support/cluster_checks.h"
#include "support/daemon_process.h"

using namespace edd::test;
using namespace std::chrono_literals;

namespace {

std::string write_secret(const std::string& path, const std::string& secret, int mode) {
  {
    std::ofstream out(path);
    out << secret << "\n";
  }
  std::filesystem::permissions(path, static_cast<std::filesystem::perms>(mode));
  return path;
}

std::string post(const DaemonProcess& d, const std::string& path, const std::string& token,
                 const std::string& body) {
  std::vector<std::string> argv{"curl",          "-s", "-i", "--max-time", "5", "-X", "POST",
                                "--data-binary", body};
  if (!token.empty()) {
    argv.push_back("-H");
    argv.push_back("Authorization: Bearer " + token);
  }
  argv.push_back("http://127.0.0.1:" + std::to_string(d.port()) + path);
  return run_command(argv, 10s).out;
}

}  // namespace

TEST_CASE("secrets: the password and the webhook token appear in no log, answer or output",
          "[daemon][security]") {
  auto cluster = EtcdCluster::start(cluster_options(0, Security::kAuth));
  const std::string password = cluster->root_password();
  const std::string token = "tok-" + password.substr(0, 8) + "-webhook-0123456789";
  remember_secret(token);
  // Readable by others on purpose: the daemon must warn without showing it.
  const std::string password_file = write_secret(cluster->dir() + "/etcd-password", password, 0644);
  const std::string token_file = write_secret(cluster->dir() + "/webhook.token", token, 0600);

  DaemonSettings s;
  s.etcd_extra = "user = \"root\"\npassword_file = \"" + password_file + "\"";
  s.http_extra = "webhook_token_file = \"" + token_file + "\"";
  DaemonProcess daemon(*cluster, 0, s);

  std::string seen;  // everything a user or an operator could read
  cluster->write_and_fragment(8LL * 1024 * 1024);
  REQUIRE(eventually(30s, [&] { return daemon.log().find("run finished") != std::string::npos; }));
  seen += daemon.get("/metrics") + daemon.get("/v1/status") + daemon.get("/healthz");
  seen += post(daemon, "/v1/alertmanager", "wrong-" + token, "{}");
  seen += post(daemon, "/v1/alertmanager", token, "{not json");
  seen += post(daemon, "/v1/alertmanager", "", std::string(2 * 1024 * 1024, 'x'));
  seen += post(daemon, "/v1/defrag?dry_run=1", token, "");

  // A wrong password in the config: rejected on SIGHUP, the old client stays.
  write_secret(password_file, "not-" + password, 0600);
  daemon.signal(SIGHUP);
  std::this_thread::sleep_for(3s);

  // The CLI, right and wrong.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"status", "--endpoints", cluster->endpoints_csv(), "--user", "root:" + password},
           {"status", "--endpoints", cluster->endpoints_csv(), "--user", "root:x" + password},
           {"defrag", "--endpoints", cluster->endpoints_csv(), "--user", "root", "--password",
            password, "--compaction=false"},
           {"defrag", "--endpoints", cluster->endpoints_csv(), "--user", "root", "--password",
            "bad" + password},
           {"defrag", "--endpoints", cluster->endpoints_csv(), "--user", "root:" + password,
            "--password", password}}) {
    const CommandResult r = run_edd(args);
    seen += r.out + r.err;
  }
  CHECK(daemon.stop(SIGTERM) == 0);
  seen += daemon.log();

  CHECK_THAT(daemon.log(), Catch::Contains("is readable by group or others"));
  CHECK(seen.find(password) == std::string::npos);
  CHECK(seen.find(token) == std::string::npos);
}
