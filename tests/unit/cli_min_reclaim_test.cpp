// --min-reclaim on `defrag` and `status`: off by default (etcd-defrag's behaviour), a bad value is
// bad usage (exit 2, nothing dialled), and status shows each member against the floor.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "cli/defrag_command.h"
#include "cli/status_command.h"
#include "cli/status_output.h"

using Catch::Matchers::Contains;

namespace {

void parse(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());  // CLI11 takes the vector back to front
  app.parse(args);
}

edd::etcd::MemberSnapshot member(const std::string& endpoint, std::int64_t size,
                                 std::int64_t in_use) {
  edd::etcd::MemberStatus st;
  st.endpoint = endpoint;
  st.member_id = 1;
  st.leader_id = 1;
  st.db_size = size;
  st.db_size_in_use = in_use;
  edd::etcd::MemberSnapshot m;
  m.endpoint = endpoint;
  m.status = st;
  m.quota_bytes = 100'000'000;
  return m;
}

}  // namespace

TEST_CASE("defrag has no reclaim floor unless --min-reclaim is given", "[flags]") {
  CLI::App app;
  edd::cli::DefragCommand cmd;
  cmd.add_to(app);
  parse(app, {});
  CHECK(cmd.min_reclaim == "0");
  setenv("ETCD_DEFRAG_MIN_RECLAIM", "2%", 1);
  CLI::App app2;
  edd::cli::DefragCommand env_cmd;
  env_cmd.add_to(app2);
  parse(app2, {});
  unsetenv("ETCD_DEFRAG_MIN_RECLAIM");
  CHECK(env_cmd.min_reclaim == "2%");
}

TEST_CASE("a bad --min-reclaim is bad usage before anything is dialled", "[flags]") {
  auto run_defrag = [](const std::string& value) {
    CLI::App app;
    edd::cli::DefragCommand cmd;
    cmd.add_to(app);
    parse(app, {"--min-reclaim=" + value, "--endpoints=127.0.0.1:9"});
    return cmd.run();
  };
  auto run_status = [](const std::string& value) {
    CLI::App app;
    edd::cli::StatusCommand cmd;
    cmd.add_to(app);
    parse(app, {"--min-reclaim=" + value, "--endpoints=127.0.0.1:9"});
    return cmd.run();
  };
  for (const char* bad : {"lots", "-1MiB", "80%", "64 parsecs"}) {
    INFO(bad);
    CHECK(run_defrag(bad) == 2);
    CHECK(run_status(bad) == 2);
  }
}

TEST_CASE("status shows each member's expected reclaim and whether the floor holds it back") {
  const std::vector<edd::etcd::MemberSnapshot> view = {member("a:2379", 90'000'000, 89'500'000),
                                                       member("b:2379", 90'000'000, 30'000'000)};
  edd::policy::ReclaimFloor floor;
  floor.quota_ratio = 0.02;  // 2 MB of the 100 MB quota
  const std::string table = edd::cli::render_status_table(view, floor);
  CHECK_THAT(table, Contains("RECLAIM"));
  CHECK_THAT(table, Contains("500 kB (under the floor 2.0 MB: held back)"));
  CHECK_THAT(table, Contains("60 MB (floor 2.0 MB)"));
  // No floor: the expected reclaim alone.
  CHECK_THAT(edd::cli::render_status_table(view), Contains("| 500 kB "));
  const std::string json = edd::cli::render_status_json(view, floor);
  CHECK_THAT(json, Contains(R"("expectedReclaim":500000,"reclaimFloor":2000000,)"
                            R"("reclaimFloorHoldsBack":true)"));
  CHECK_THAT(json, Contains(R"("expectedReclaim":60000000,"reclaimFloor":2000000,)"
                            R"("reclaimFloorHoldsBack":false)"));
  // Under NOSPACE the floor holds nothing back.
  auto alarmed = view;
  alarmed[1].alarms = {edd::etcd::AlarmType::kNoSpace};
  CHECK_THAT(edd::cli::render_status_json(alarmed, floor),
             !Contains(R"("reclaimFloorHoldsBack":true)"));
}
