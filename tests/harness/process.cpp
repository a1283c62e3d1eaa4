#include "harness/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "harness/test_record.h"

extern char** environ;

namespace edd::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string find_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

// Everything execve needs, built before fork: between fork and exec the child may only call
// async-signal-safe functions, so no allocation happens there.
struct ExecImage {
  std::string path;
  std::vector<std::string> strings;  // argv then envp; the pointers below point into these
  std::vector<char*> argv;
  std::vector<char*> envp;
};

ExecImage make_image(const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& extra_env) {
  if (args.empty()) throw std::invalid_argument("edd::test: empty command line");
  ExecImage image;
  image.path = find_in_path(args[0]);
  image.strings = args;
  std::size_t env_start = image.strings.size();
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    std::string key = entry.substr(0, entry.find('='));
    if (!extra_env.contains(key)) image.strings.push_back(std::move(entry));
  }
  for (const auto& [key, value] : extra_env) image.strings.push_back(key + "=" + value);
  for (std::size_t i = 0; i < image.strings.size(); ++i) {
    (i < env_start ? image.argv : image.envp).push_back(image.strings[i].data());
  }
  image.argv.push_back(nullptr);
  image.envp.push_back(nullptr);
  return image;
}

[[noreturn]] void exec_child(const ExecImage& image, pid_t parent, int in_fd, int out_fd,
                             int err_fd, int report_fd) {
  // If the test process dies, its children must not outlive it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  // Dispositions set to SIG_IGN and the signal mask survive exec: start from a clean slate.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &default_action, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int error = 0;
  if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) {
    error = errno;
  } else {
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execve(image.path.c_str(), image.argv.data(), image.envp.data());
    error = errno;
  }
  [[maybe_unused]] auto written = ::write(report_fd, &error, sizeof error);
  ::_exit(127);
}

// Forks and execs; returns the pid, or -1 with *error set when exec failed.
pid_t fork_exec(const ExecImage& image, int in_fd, int out_fd, int err_fd, std::string* error) {
  if (image.path.empty()) {
    *error = "'" + std::string(image.argv[0]) + "' not found in PATH";
    return -1;
  }
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + std::strerror(errno);
    return -1;
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) exec_child(image, parent, in_fd, out_fd, err_fd, report[1]);
  ::close(report[1]);
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    ::close(report[0]);
    return -1;
  }
  // The report pipe closes on a successful exec (O_CLOEXEC) or carries the child's errno.
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n > 0) {
    ::waitpid(pid, nullptr, 0);
    *error = "cannot execute " + image.path + ": " + std::strerror(child_errno);
    return -1;
  }
  return pid;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// write() without dying of SIGPIPE when the child has closed its stdin: block the signal in
// this thread and discard it if it was raised.
ssize_t write_without_sigpipe(int fd, const char* data, std::size_t size) {
  sigset_t pipe_set, old_set;
  ::sigemptyset(&pipe_set);
  ::sigaddset(&pipe_set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t n = ::write(fd, data, size);
  int saved_errno = errno;
  if (n < 0 && saved_errno == EPIPE) {
    timespec zero{};
    ::sigtimedwait(&pipe_set, nullptr, &zero);
  }
  ::pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved_errno;
  return n;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Reads what is available; closes fd at end of file.
void drain(int& fd, std::string& into) {
  char buffer[65536];
  while (fd >= 0) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      into.append(buffer, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (n == 0 || errno != EAGAIN) close_fd(fd);
      return;
    }
  }
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::map<std::string, std::string>& extra_env,
                          const std::string& stdin_data) {
  CommandResult result;
  ExecImage image = make_image(argv, extra_env);
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("edd::test::run_command: pipe2: ") + std::strerror(errno));
  }
  std::string error;
  pid_t pid = fork_exec(image, in[0], out[1], err[1], &error);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  int stdin_fd = in[1], stdout_fd = out[0], stderr_fd = err[0];
  if (pid < 0) {
    close_fd(stdin_fd);
    close_fd(stdout_fd);
    close_fd(stderr_fd);
    result.exit_code = 127;
    result.err = "edd::test::run_command: " + error;
    return result;
  }
  for (int fd : {stdin_fd, stdout_fd, stderr_fd}) ::fcntl(fd, F_SETFL, O_NONBLOCK);
  std::size_t written = 0;
  if (stdin_data.empty()) close_fd(stdin_fd);

  const auto deadline = Clock::now() + timeout;
  int status = 0;
  while (true) {
    // Checked each round: a grandchild may hold the pipes open after the child has exited.
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      drain(stdout_fd, result.out);
      drain(stderr_fd, result.err);
      result.exit_code = exit_code_of(status);
      break;
    }
    auto now = Clock::now();
    if (now >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      drain(stdout_fd, result.out);
      drain(stderr_fd, result.err);
      result.exit_code = -1;
      result.err += "edd::test::run_command: " + argv[0] + " timed out after " +
                    std::to_string(timeout.count()) + " ms and was killed\n";
      break;
    }
    pollfd fds[3];
    nfds_t count = 0;
    if (stdin_fd >= 0) fds[count++] = {stdin_fd, POLLOUT, 0};
    if (stdout_fd >= 0) fds[count++] = {stdout_fd, POLLIN, 0};
    if (stderr_fd >= 0) fds[count++] = {stderr_fd, POLLIN, 0};
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    ::poll(fds, count, static_cast<int>(std::min<std::int64_t>(wait.count() + 1, 50)));
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == stdin_fd) {
        ssize_t n = write_without_sigpipe(stdin_fd, stdin_data.data() + written,
                                          stdin_data.size() - written);
        if (n > 0) written += static_cast<std::size_t>(n);
        if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data.size()) {
          close_fd(stdin_fd);
        }
      } else if (fds[i].fd == stdout_fd) {
        drain(stdout_fd, result.out);
      } else {
        drain(stderr_fd, result.err);
      }
    }
  }
  close_fd(stdin_fd);
  close_fd(stdout_fd);
  close_fd(stderr_fd);
  remember_output(result.out);  // for the whole suite's secrets check
  remember_output(result.err);
  return result;
}

pid_t spawn_process(const std::vector<std::string>& argv, const std::string& output_path) {
  ExecImage image = make_image(argv, {});
  int output = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (output < 0) {
    throw std::runtime_error("edd::test::spawn_process: cannot open " + output_path + ": " +
                             std::strerror(errno));
  }
  int null_input = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::string error;
  pid_t pid = fork_exec(image, null_input, output, output, &error);
  ::close(output);
  if (null_input >= 0) ::close(null_input);
  if (pid < 0) throw std::runtime_error("edd::test::spawn_process: " + error);
  return pid;
}

bool wait_for_exit(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int local_status = 0;
    pid_t r = ::waitpid(pid, &local_status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      if (status != nullptr) *status = local_status;
      return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void stop_processes(const std::vector<pid_t>& pids, std::chrono::milliseconds grace) {
  for (pid_t pid : pids) {
    if (pid <= 0) continue;
    ::kill(pid, SIGTERM);
    ::kill(pid, SIGCONT);
  }
  const auto deadline = Clock::now() + grace;
  for (pid_t pid : pids) {
    if (pid <= 0) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (!wait_for_exit(pid, std::max(left, std::chrono::milliseconds(0)))) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
}

}  // namespace edd::test
