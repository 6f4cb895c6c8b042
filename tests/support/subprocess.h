#ifndef WXGATE_TESTS_SUPPORT_SUBPROCESS_H_
#define WXGATE_TESTS_SUPPORT_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace wxgate::test {

// How a child process ended.
struct ExitStatus {
  bool exited = false;  // ended by exit(); otherwise killed by `signal`
  int code = -1;        // exit code when `exited`
  int signal = 0;       // terminating signal when not `exited`

  bool success() const { return exited && code == 0; }
  std::string ToString() const;
};

// A child process started with fork/exec, for tests. Its stdout and stderr
// are captured through pipes by a reader thread (or sent to files), so a test
// can wait for a given line without polling. The destructor SIGKILLs a child
// that is still running and reaps it.
//
// Thread-safe: every method may be called from any thread.
class Subprocess {
 public:
  enum class Stream { kStdout = 0, kStderr = 1 };

  // Set fields one by one: GCC's -Wextra flags designated initializers that
  // leave fields out.
  struct Options {
    // argv[0] is the program: a path, or a name looked up in PATH.
    std::vector<std::string> argv;
    // Set (or override) in the child's environment.
    std::vector<std::pair<std::string, std::string>> env;
    // Removed from the inherited environment.
    std::vector<std::string> unset_env;
    // When false the child starts with only `env`.
    bool inherit_env = true;
    // Empty: the stream is captured (Output, WaitForLine). Otherwise the child
    // appends straight to this file and the stream is not captured.
    std::string stdout_file;
    std::string stderr_file;
    // Copy each captured stderr line to this process's stderr as well,
    // prefixed with "[argv0 pid] ": handy when a test fails.
    bool echo_stderr = false;
    // Empty: the current directory.
    std::string working_dir;
    // SIGKILL the child when the thread that started it ends
    // (PR_SET_PDEATHSIG), so a crashed test run leaves no stray servers.
    // Start children from a thread that outlives them (the test's main
    // thread, a fixture), or turn this off.
    bool die_with_parent = true;
  };

  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(Options options);

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }

  // Waits until a line of `stream` (old or new, without its '\n') satisfies
  // `predicate`, and returns it. DEADLINE_EXCEEDED after `timeout`;
  // FAILED_PRECONDITION when the stream ends (child exited) first or is not
  // captured. `predicate` runs on the calling thread, outside any lock.
  absl::StatusOr<std::string> WaitForLine(Stream stream,
                                          absl::FunctionRef<bool(absl::string_view)> predicate,
                                          absl::Duration timeout);
  // Shorthand: the first line containing `needle`.
  absl::StatusOr<std::string> WaitForLineContaining(Stream stream, absl::string_view needle,
                                                    absl::Duration timeout);

  // Everything captured so far on `stream`.
  std::string Output(Stream stream) const;

  // Sends `signo` unless the child was already reaped.
  absl::Status Signal(int signo);

  // Waits for the child to end. DEADLINE_EXCEEDED when it is still running
  // after `timeout`.
  absl::StatusOr<ExitStatus> Wait(absl::Duration timeout = absl::InfiniteDuration());

  // SIGTERM, then Wait(timeout).
  absl::StatusOr<ExitStatus> Terminate(absl::Duration timeout);

  bool running() const;

 private:
  struct Capture {
    std::vector<std::string> lines;
    std::string partial;
    bool eof = false;
  };

  Subprocess() = default;
  void ReadLoop();
  void WaitLoop();
  // Splits `data` into lines; returns the complete lines for echoing.
  std::vector<std::string> Append(int index, absl::string_view data)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  pid_t pid_ = -1;
  std::string name_;
  bool echo_stderr_ = false;
  // Read ends of the capture pipes, -1 when not captured. Fixed once Start
  // returns; closed by the destructor after the reader thread ended.
  int capture_fd_[2] = {-1, -1};
  int wake_fd_[2] = {-1, -1};  // lets the destructor stop the reader
  std::thread reader_;
  std::thread waiter_;

  mutable absl::Mutex mu_;
  Capture capture_[2] ABSL_GUARDED_BY(mu_);
  // Set once the child was reaped; no signal may be sent after that since
  // the pid may be reused.
  bool reaped_ ABSL_GUARDED_BY(mu_) = false;
  ExitStatus exit_status_ ABSL_GUARDED_BY(mu_);
};

// How a program run to completion ended, and what it printed.
struct RunResult {
  ExitStatus exit;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs argv to completion (SIGKILLed after `timeout`, which is then an error).
absl::StatusOr<RunResult> RunToCompletion(std::vector<std::string> argv,
                                          std::vector<std::pair<std::string, std::string>> env = {},
                                          absl::Duration timeout = absl::Seconds(60));

// After a child's exit, waits until both its streams reached end of file (or
// `timeout`), so what is read afterwards is complete.
void AwaitEndOfOutput(Subprocess& process, absl::Duration timeout);

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_SUBPROCESS_H_
