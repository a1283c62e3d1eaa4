// Child processes for tests: run a command with a timeout and capture its output, or start a
// long-lived process (an etcd member) and stop it by PID. Children die with the thread that
// started them (PR_SET_PDEATHSIG). Free functions without shared state: safe from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace edd::test {

struct CommandResult {
  int exit_code = -1;  // the exit status; 128 + signal if killed by a signal; -1 on timeout
  std::string out;
  std::string err;
};

// Runs argv (argv[0] searched in PATH) without a shell, feeding stdin_data to its stdin. On
// timeout the child is killed with SIGKILL and exit_code is -1.
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::map<std::string, std::string>& extra_env = {},
                          const std::string& stdin_data = {});

// Starts argv in the background, stdin from /dev/null, stdout and stderr appended to
// output_path. Throws std::runtime_error when it cannot be executed.
pid_t spawn_process(const std::vector<std::string>& argv, const std::string& output_path);

// Reaps pid if it has exited within timeout; *status gets the waitpid status. False if it runs.
bool wait_for_exit(pid_t pid, std::chrono::milliseconds timeout, int* status = nullptr);

// Sends SIGTERM (and SIGCONT, in case one is stopped) to every pid at once, SIGKILL to those
// still running after grace; always reaps them.
void stop_processes(const std::vector<pid_t>& pids, std::chrono::milliseconds grace);

}  // namespace edd::test
