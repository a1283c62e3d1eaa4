#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <optional>

#include "cli/defrag_command.h"
#include "cli/status_command.h"
#include "cli/usage_command.h"
#include "cli/version.h"
#include "service/daemon_app.h"

namespace edd::cli {
namespace {

// Parses the command line; an exit code when there is nothing left to do (help, --version, or a
// usage error: exit 2 with one line).
std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "etcd-defragd: " << e.what() << " (see --help)\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace

int run_app(int argc, char** argv) {
  CLI::App app{"etcd-defragd: keeps etcd clusters from running out of space, safely",
               "etcd-defragd"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(kVersion));

  StatusCommand status;
  auto* status_app = app.add_subcommand("status", "print every member's status");
  status.add_to(*status_app);

  DefragCommand defrag;
  auto* defrag_app = app.add_subcommand(
      "defrag",
      "defragment the cluster now, followers first and the leader last (a drop-in for "
      "etcd-defrag)");
  defrag.add_to(*defrag_app);
  // etcd-defrag answers --version (and ETCD_DEFRAG_VERSION) itself; so does our drop-in.
  defrag_app->set_version_flag("--version", std::string(kVersion))
      ->envname(etcd_defrag_env("version"));

  UsageCommand usage;
  auto* usage_app = app.add_subcommand(
      "usage", "what fills the database: keys and value bytes by prefix, largest first");
  usage.add_to(*usage_app);

  std::string run_config = "/etc/etcd-defragd/etcd-defragd.toml";
  auto* run_app = app.add_subcommand(
      "run", "the daemon: poll, export metrics, serve HTTP, defragment when the rule fires");
  run_app->add_option("-c,--config", run_config, "the TOML config file")->capture_default_str();

  std::string check_path = run_config;
  auto* check_app = app.add_subcommand("check-config", "validate a config file and its rule");
  check_app->add_option("-c,--config", check_path, "the TOML config file")->capture_default_str();

  auto* version_app = app.add_subcommand("version", "print version and build info");

  if (auto code = parse(app, argc, argv)) return *code;

  try {
    if (status_app->parsed()) return status.run();
    if (defrag_app->parsed()) return defrag.run();
    if (usage_app->parsed()) return usage.run();
    if (run_app->parsed()) return service::run_daemon(run_config);
    if (check_app->parsed()) return service::check_config(check_path);
    if (version_app->parsed()) {
      std::cout << "etcd-defragd " << kVersion << "\n" << build_info() << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "etcd-defragd: internal error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace edd::cli
