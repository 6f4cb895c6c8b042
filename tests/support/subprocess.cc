#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace wxgate::test {
namespace {

absl::Status ErrnoError(absl::string_view what, int error) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(error)));
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// The child's environment as "K=V" strings.
std::vector<std::string> BuildEnvironment(const Subprocess::Options& options) {
  std::map<std::string, std::string> env;
  if (options.inherit_env) {
    for (char** entry = environ; *entry != nullptr; ++entry) {
      absl::string_view kv(*entry);
      size_t eq = kv.find('=');
      if (eq == absl::string_view::npos) continue;
      env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
  }
  for (const std::string& name : options.unset_env) env.erase(name);
  for (const auto& [name, value] : options.env) env[name] = value;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [name, value] : env) out.push_back(absl::StrCat(name, "=", value));
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Runs in the forked child: only async-signal-safe calls until exec. Reports
// a failure as an errno written to `error_fd`.
[[noreturn]] void ExecChild(const Subprocess::Options& options, char* const argv[],
                            char* const envp[], int out_fd, int err_fd, int error_fd,
                            pid_t parent) {
  auto fail = [&](int error) {
    ssize_t ignored = write(error_fd, &error, sizeof(error));
    (void)ignored;
    _exit(127);
  };
  if (options.die_with_parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(errno);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
  }
  // Signal state is inherited through exec: give the program a clean one.
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int signo : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) signal(signo, SIG_DFL);

  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0) fail(errno);
  if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0) fail(errno);
  if (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0) fail(errno);
  // Keep the error pipe at fd 3 (close-on-exec) and close everything above,
  // so the child holds none of the test's sockets or pipes.
  if (error_fd != 3) {
    if (dup2(error_fd, 3) < 0) fail(errno);
    error_fd = 3;
  }
  if (fcntl(error_fd, F_SETFD, FD_CLOEXEC) != 0) fail(errno);
  syscall(SYS_close_range, 4u, ~0u, 0u);
  if (!options.working_dir.empty() && chdir(options.working_dir.c_str()) != 0) fail(errno);
  if (absl::StrContains(options.argv[0], '/')) {
    execve(argv[0], argv, envp);
  } else {
    execvpe(argv[0], argv, envp);
  }
  fail(errno);
  _exit(127);
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (exited) return absl::StrCat("exit code ", code);
  return absl::StrCat("killed by signal ", signal, " (", strsignal(signal), ")");
}

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(Options options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("Subprocess: empty argv");
  std::unique_ptr<Subprocess> process(new Subprocess());
  process->name_ = options.argv[0].substr(options.argv[0].rfind('/') + 1);
  process->echo_stderr_ = options.echo_stderr;

  std::vector<std::string> argv_strings = options.argv;
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<std::string> env_strings = BuildEnvironment(options);
  std::vector<char*> envp = CStrings(env_strings);

  // Child-side fds for stdout/stderr: a pipe's write end or a file.
  int child_fd[2] = {-1, -1};
  auto cleanup = [&] {
    for (int& fd : child_fd) CloseFd(fd);
  };
  const std::string* files[2] = {&options.stdout_file, &options.stderr_file};
  for (int i = 0; i < 2; ++i) {
    if (!files[i]->empty()) {
      child_fd[i] = open(files[i]->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (child_fd[i] < 0) {
        absl::Status status = ErrnoError(absl::StrCat("open ", *files[i]), errno);
        cleanup();
        return status;
      }
      continue;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      absl::Status status = ErrnoError("pipe2", errno);
      cleanup();
      return status;
    }
    process->capture_fd_[i] = fds[0];
    child_fd[i] = fds[1];
  }
  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0 || pipe2(process->wake_fd_, O_CLOEXEC) != 0) {
    absl::Status status = ErrnoError("pipe2", errno);
    cleanup();
    return status;
  }

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    absl::Status status = ErrnoError("fork", errno);
    cleanup();
    close(error_pipe[0]);
    close(error_pipe[1]);
    return status;
  }
  if (pid == 0) {
    ExecChild(options, argv.data(), envp.data(), child_fd[0], child_fd[1], error_pipe[1], parent);
  }
  process->pid_ = pid;
  cleanup();
  close(error_pipe[1]);
  int exec_error = 0;
  ssize_t n;
  do {
    n = read(error_pipe[0], &exec_error, sizeof(exec_error));
  } while (n < 0 && errno == EINTR);
  close(error_pipe[0]);
  if (n > 0) {
    int status;
    waitpid(pid, &status, 0);
    {
      absl::MutexLock lock(&process->mu_);
      process->reaped_ = true;
    }
    return ErrnoError(absl::StrCat("cannot start ", options.argv[0]), exec_error);
  }

  process->waiter_ = std::thread([p = process.get()] { p->WaitLoop(); });
  process->reader_ = std::thread([p = process.get()] { p->ReadLoop(); });
  return process;
}

Subprocess::~Subprocess() {
  {
    absl::MutexLock lock(&mu_);
    if (!reaped_ && pid_ > 0) kill(pid_, SIGKILL);
  }
  if (waiter_.joinable()) waiter_.join();
  // A grandchild could still hold the pipes open: wake the reader explicitly.
  if (wake_fd_[1] >= 0) {
    char byte = 0;
    ssize_t ignored = write(wake_fd_[1], &byte, 1);
    (void)ignored;
  }
  if (reader_.joinable()) reader_.join();
  for (int& fd : capture_fd_) CloseFd(fd);
  for (int& fd : wake_fd_) CloseFd(fd);
}

void Subprocess::WaitLoop() {
  // WNOWAIT leaves the zombie in place, so the pid cannot be reused until we
  // reap it below while holding the lock that Signal() takes.
  siginfo_t info;
  while (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
  }
  absl::MutexLock lock(&mu_);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  if (WIFEXITED(status)) {
    exit_status_.exited = true;
    exit_status_.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit_status_.signal = WTERMSIG(status);
  }
}

void Subprocess::ReadLoop() {
  char buffer[16384];
  bool open[2] = {capture_fd_[0] >= 0, capture_fd_[1] >= 0};
  {
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < 2; ++i) capture_[i].eof = !open[i];
  }
  while (open[0] || open[1]) {
    pollfd fds[3];
    int index[3];
    nfds_t count = 0;
    for (int i = 0; i < 2; ++i) {
      if (!open[i]) continue;
      fds[count] = {capture_fd_[i], POLLIN, 0};
      index[count++] = i;
    }
    fds[count] = {wake_fd_[0], POLLIN, 0};
    index[count++] = -1;
    if (poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[count - 1].revents != 0) break;  // destructor: stop now
    for (nfds_t k = 0; k + 1 < count; ++k) {
      if (fds[k].revents == 0) continue;
      const int i = index[k];
      ssize_t n = read(capture_fd_[i], buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      std::vector<std::string> echo;
      {
        absl::MutexLock lock(&mu_);
        if (n <= 0) {
          open[i] = false;
          Capture& capture = capture_[i];
          if (!capture.partial.empty()) {
            capture.lines.push_back(std::move(capture.partial));
            capture.partial.clear();
          }
          capture.eof = true;
        } else {
          echo = Append(i, absl::string_view(buffer, static_cast<size_t>(n)));
        }
      }
      if (echo_stderr_ && i == static_cast<int>(Stream::kStderr)) {
        for (const std::string& line : echo) {
          std::fprintf(stderr, "[%s %d] %s\n", name_.c_str(), static_cast<int>(pid_), line.c_str());
        }
      }
    }
  }
  absl::MutexLock lock(&mu_);
  for (Capture& capture : capture_) capture.eof = true;
}

std::vector<std::string> Subprocess::Append(int index, absl::string_view data) {
  Capture& capture = capture_[index];
  std::vector<std::string> complete;
  size_t start = 0;
  while (true) {
    size_t newline = data.find('\n', start);
    if (newline == absl::string_view::npos) break;
    capture.partial.append(data.data() + start, newline - start);
    capture.lines.push_back(std::move(capture.partial));
    capture.partial.clear();
    if (echo_stderr_) complete.push_back(capture.lines.back());
    start = newline + 1;
  }
  capture.partial.append(data.data() + start, data.size() - start);
  return complete;
}

absl::StatusOr<std::string> Subprocess::WaitForLine(
    Stream stream, absl::FunctionRef<bool(absl::string_view)> predicate, absl::Duration timeout) {
  const int i = static_cast<int>(stream);
  if (capture_fd_[i] < 0) {
    return absl::FailedPreconditionError(absl::StrCat(name_, ": stream is not captured"));
  }
  const absl::Time deadline = absl::Now() + timeout;
  size_t cursor = 0;
  while (true) {
    std::vector<std::string> fresh;
    bool eof;
    {
      absl::MutexLock lock(&mu_);
      const Capture& capture = capture_[i];
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return capture.lines.size() > cursor || capture.eof;
      };
      mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
      fresh.assign(capture.lines.begin() + static_cast<ptrdiff_t>(cursor), capture.lines.end());
      cursor = capture.lines.size();
      eof = capture.eof;
    }
    for (std::string& line : fresh) {
      if (predicate(line)) return std::move(line);
    }
    if (eof) {
      return absl::FailedPreconditionError(absl::StrCat(name_, " closed its ",
                                                        i == 0 ? "stdout" : "stderr",
                                                        " before printing the awaited line"));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(name_, ": awaited line not printed within ", absl::FormatDuration(timeout)));
    }
  }
}

absl::StatusOr<std::string> Subprocess::WaitForLineContaining(Stream stream,
                                                              absl::string_view needle,
                                                              absl::Duration timeout) {
  return WaitForLine(
      stream, [needle](absl::string_view line) { return absl::StrContains(line, needle); },
      timeout);
}

std::string Subprocess::Output(Stream stream) const {
  absl::MutexLock lock(&mu_);
  const Capture& capture = capture_[static_cast<int>(stream)];
  std::string out;
  for (const std::string& line : capture.lines) absl::StrAppend(&out, line, "\n");
  out += capture.partial;
  return out;
}

absl::Status Subprocess::Signal(int signo) {
  absl::MutexLock lock(&mu_);
  if (reaped_) return absl::FailedPreconditionError(absl::StrCat(name_, " already exited"));
  if (kill(pid_, signo) != 0) return ErrnoError("kill", errno);
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> Subprocess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  if (!mu_.AwaitWithTimeout(absl::Condition(&reaped_), timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat(name_, " still running after ", absl::FormatDuration(timeout)));
  }
  // The child is gone, but what it wrote last may still sit in the pipes:
  // let the reader drain them so Output() is complete, unless a grandchild
  // keeps a pipe open (then up to the same deadline, at most a second).
  auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (int i = 0; i < 2; ++i) {
      if (capture_fd_[i] >= 0 && !capture_[i].eof) return false;
    }
    return true;
  };
  mu_.AwaitWithDeadline(absl::Condition(&drained),
                        std::min(deadline, absl::Now() + absl::Seconds(1)));
  return exit_status_;
}

absl::StatusOr<ExitStatus> Subprocess::Terminate(absl::Duration timeout) {
  if (absl::Status status = Signal(SIGTERM); !status.ok() && running()) return status;
  return Wait(timeout);
}

bool Subprocess::running() const {
  absl::MutexLock lock(&mu_);
  return !reaped_;
}

void AwaitEndOfOutput(Subprocess& process, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (Subprocess::Stream stream : {Subprocess::Stream::kStdout, Subprocess::Stream::kStderr}) {
    // A predicate that never matches returns only at end of file or the deadline.
    (void)process.WaitForLine(
        stream, [](absl::string_view) { return false; },
        std::max(absl::ZeroDuration(), deadline - absl::Now()));
  }
}

absl::StatusOr<RunResult> RunToCompletion(std::vector<std::string> argv,
                                          std::vector<std::pair<std::string, std::string>> env,
                                          absl::Duration timeout) {
  Subprocess::Options options;
  options.argv = std::move(argv);
  options.env = std::move(env);
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(options);
  if (!process.ok()) return process.status();
  absl::StatusOr<ExitStatus> exit = (*process)->Wait(timeout);
  if (!exit.ok()) {
    return absl::Status(exit.status().code(),
                        absl::StrCat(exit.status().message(), "; its stderr so far:\n",
                                     (*process)->Output(Subprocess::Stream::kStderr)));
  }
  AwaitEndOfOutput(**process, absl::Seconds(5));
  return RunResult{*exit, (*process)->Output(Subprocess::Stream::kStdout),
                   (*process)->Output(Subprocess::Stream::kStderr)};
}

}  // namespace wxgate::test
