// Files the config names: TLS material, the etcd password and the webhook token. Checked when
// the config loads (line:col of the key), the password read only by make_client_options.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/client_setup.h"
#include "config/loader.h"

using namespace edd::config;
using namespace std::chrono_literals;

namespace {

// A fresh directory under /tmp for one test, removed after it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/edd-config-test-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    REQUIRE(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `contents` to `name` with `mode` and returns its absolute path.
  std::string write(const std::string& name, const std::string& contents, mode_t mode = 0600) {
    const std::string p = path_ + "/" + name;
    {
      std::ofstream out(p, std::ios::binary);
      out << contents;
    }
    REQUIRE(::chmod(p.c_str(), mode) == 0);
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

LoadResult load(const std::string& toml) { return load_config_string(toml, "f.toml"); }

std::string etcd_auth(const std::string& password_file) {
  return "[etcd]\nuser = \"root\"\npassword_file = \"" + password_file + "\"\n";
}

}  // namespace

TEST_CASE("a config's password file loses exactly one trailing newline") {
  TempDir dir;
  for (const auto& [contents, expected] :
       std::vector<std::pair<std::string, std::string>>{{"s3cret\n", "s3cret"},
                                                        {"s3cret\r\n", "s3cret"},
                                                        {"s3cret", "s3cret"},
                                                        {"s3cret\n\n", "s3cret\n"},
                                                        {" spaced pw \n", " spaced pw "}}) {
    const std::string file = dir.write("password", contents);
    const auto r = load(etcd_auth(file));
    INFO((r.errors.empty() ? std::string() : r.errors.front()));
    REQUIRE(r.config.has_value());
    CHECK(r.warnings.empty());
    CHECK(r.config->etcd.password_file == file);
    auto setup = make_client_options(r.config->etcd);
    REQUIRE(setup.has_value());
    CHECK(setup->options.user == "root");
    CHECK(setup->options.password == expected);
    CHECK(setup->warnings.empty());
  }
}

TEST_CASE("a config's missing password file is an error naming the key and the path") {
  TempDir dir;
  const std::string missing = dir.path() + "/nope";
  const auto r = load(etcd_auth(missing));
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] == "f.toml:3:17: etcd.password_file: cannot read \"" + missing +
                           "\": No such file or directory");

  EtcdConfig etcd;
  etcd.user = "root";
  etcd.password_file = missing;
  auto setup = make_client_options(etcd);
  REQUIRE_FALSE(setup.has_value());
  CHECK(setup.error().code == edd::ErrorCode::kInvalidArgument);
  CHECK(setup.error().message ==
        "etcd.password_file: cannot read \"" + missing + "\": No such file or directory");
}

TEST_CASE("a config warns about a password file readable by others, never showing it") {
  TempDir dir;
  const std::string file = dir.write("password", "hunter2\n", 0644);
  const auto r = load(etcd_auth(file));
  REQUIRE(r.config.has_value());
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0] == "f.toml:3:17: etcd.password_file: \"" + file +
                             "\" is readable by group or others (mode 0644); chmod 600 it");
  auto setup = make_client_options(r.config->etcd);
  REQUIRE(setup.has_value());
  REQUIRE(setup->warnings.size() == 1);
  CHECK(setup->warnings[0] == "etcd.password_file: \"" + file +
                                  "\" is readable by group or others (mode 0644); chmod 600 it");
  CHECK(setup->warnings[0].find("hunter2") == std::string::npos);
  const std::string group = dir.write("group", "hunter2\n", 0640);
  CHECK(load(etcd_auth(group)).warnings.size() == 1);
}

TEST_CASE("a config's empty password file is refused when the client is set up") {
  TempDir dir;
  const std::string file = dir.write("password", "\n");
  const auto r = load(etcd_auth(file));
  REQUIRE(r.config.has_value());
  auto setup = make_client_options(r.config->etcd);
  REQUIRE_FALSE(setup.has_value());
  CHECK(setup.error().message == "etcd.password_file: \"" + file + "\" is empty");
}

TEST_CASE("a config refuses a directory or a FIFO where a file belongs, without hanging") {
  TempDir dir;
  const std::string fifo = dir.path() + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  for (const std::string& p : {dir.path(), fifo}) {
    const auto r = load("[etcd]\ncacert = \"" + p + "\"\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0] == "f.toml:2:10: etcd.cacert: \"" + p + "\" is not a regular file");
  }
}

TEST_CASE("a config's unreadable file is an error at its key") {
  if (::geteuid() == 0) return;  // root reads everything
  TempDir dir;
  const std::string file = dir.write("ca.pem", "x", 0000);
  const auto r = load("[etcd]\ncacert = \"" + file + "\"\n");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] == "f.toml:2:10: etcd.cacert: cannot read \"" + file + "\": Permission denied");
}

TEST_CASE("a config's etcd TLS certificate without its key is an error, and the reverse") {
  TempDir dir;
  const std::string cert = dir.write("client.crt", "x", 0644);
  const std::string key = dir.write("client.key", "x", 0600);
  CHECK(load("[etcd]\ncert = \"" + cert + "\"\n").errors ==
        std::vector<std::string>{"f.toml:2:8: etcd.cert: needs etcd.key (a client certificate "
                                 "needs its key)"});
  CHECK(load("[etcd]\nkey = \"" + key + "\"\n").errors ==
        std::vector<std::string>{"f.toml:2:7: etcd.key: needs etcd.cert (a client certificate "
                                 "needs its key)"});
  const auto r = load("[etcd]\ncacert = \"" + cert + "\"\ncert = \"" + cert + "\"\nkey = \"" + key +
                      "\"\nendpoints = [\"https://10.0.0.1:2379\"]\n");
  REQUIRE(r.config.has_value());
  CHECK(r.warnings.empty());
  auto setup = make_client_options(r.config->etcd);
  REQUIRE(setup.has_value());
  CHECK(setup->options.ca_file == cert);
  CHECK(setup->options.cert_file == cert);
  CHECK(setup->options.key_file == key);
  CHECK(setup->options.endpoints == std::vector<std::string>{"https://10.0.0.1:2379"});
  CHECK(setup->options.password.empty());
  CHECK(setup->options.command_timeout == 30s);
}

TEST_CASE("a config's http TLS certificate without its key is an error") {
  TempDir dir;
  const std::string cert = dir.write("server.crt", "x", 0644);
  const std::string key = dir.write("server.key", "x", 0600);
  CHECK(load("[http]\ncert = \"" + cert + "\"\n").errors ==
        std::vector<std::string>{"f.toml:2:8: http.cert: needs http.key (TLS needs both)"});
  CHECK(load("[http]\nkey = \"" + key + "\"\n").errors ==
        std::vector<std::string>{"f.toml:2:7: http.key: needs http.cert (TLS needs both)"});
  CHECK(load("[http]\nclient_ca = \"" + cert + "\"\n").errors ==
        std::vector<std::string>{"f.toml:2:13: http.client_ca: needs http.cert and http.key "
                                 "(client certificates are checked only over TLS)"});
  const auto r = load("[http]\ncert = \"" + cert + "\"\nkey = \"" + key + "\"\nclient_ca = \"" +
                      cert + "\"\n");
  REQUIRE(r.config.has_value());
  CHECK(r.config->http.cert == cert);
  CHECK(r.config->http.key == key);
  CHECK(r.config->http.client_ca == cert);
}

TEST_CASE("a config warns about a world-readable private key but not a group-readable one") {
  TempDir dir;
  const std::string cert = dir.write("server.crt", "x", 0644);
  const std::string world = dir.write("world.key", "x", 0644);
  const std::string group = dir.write("group.key", "x", 0640);
  const auto r = load("[http]\ncert = \"" + cert + "\"\nkey = \"" + world + "\"\n");
  REQUIRE(r.config.has_value());
  CHECK(r.warnings == std::vector<std::string>{"f.toml:3:7: http.key: \"" + world +
                                               "\" is readable by everyone (mode 0644); chmod "
                                               "600 or 640 it"});
  CHECK(load("[http]\ncert = \"" + cert + "\"\nkey = \"" + group + "\"\n").warnings.empty());
}

TEST_CASE("a config warns about a webhook token file readable by group or others") {
  TempDir dir;
  const std::string token = dir.write("token", "t0ken\n", 0640);
  const auto r = load("[http]\nwebhook_token_file = \"" + token + "\"\n");
  REQUIRE(r.config.has_value());
  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0], Catch::StartsWith("f.toml:2:22: http.webhook_token_file: \"" + token +
                                              "\" is readable by group or others (mode 0640)"));
  CHECK(r.warnings[0].find("t0ken") == std::string::npos);
}

TEST_CASE("a config's etcd user and password file go together") {
  TempDir dir;
  const std::string file = dir.write("password", "pw\n");
  CHECK(load("[etcd]\nuser = \"root\"\n").errors ==
        std::vector<std::string>{"f.toml:2:8: etcd.user: needs etcd.password_file (the file "
                                 "holding the user's password)"});
  CHECK(load("[etcd]\npassword_file = \"" + file + "\"\n").errors ==
        std::vector<std::string>{"f.toml:2:17: etcd.password_file: needs etcd.user"});
}

TEST_CASE("a config file on disk loads with its path in messages") {
  TempDir dir;
  const std::string file = dir.write("etcd-defragd.toml", "[log]\nlevel = \"chatty\"\n", 0644);
  const auto r = load_config_file(file);
  REQUIRE(r.errors.size() == 1);
  CHECK_THAT(r.errors[0], Catch::StartsWith(file + ":2:9: log.level: "));
  const std::string good = dir.write("good.toml", "[log]\nlevel = \"debug\"\n", 0644);
  const auto ok = load_config_file(good);
  REQUIRE(ok.config.has_value());
  CHECK(ok.config->source == good);
}
