#ifndef WXGATE_TESTS_SUPPORT_EMULATOR_PROCESS_H_
#define WXGATE_TESTS_SUPPORT_EMULATOR_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/control_client.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace wxgate::test {

struct EmulatorOptions {
  // A wxgate config (text proto) whose apps the emulator registers at start.
  std::string config_file;
  // Environment for the emulator, e.g. the variables that config's
  // `secret { env: ... }` entries name.
  std::vector<std::pair<std::string, std::string>> env;
  // Initial worker threads (--threads); 0 keeps the emulator's default.
  int threads = 0;
  // --quiet: no per-request log lines on stderr.
  bool quiet = true;
  // Copy the emulator's stderr to ours as it arrives.
  bool echo_stderr = false;
  // Further command-line flags, e.g. "--max-threads=4096".
  std::vector<std::string> extra_args;
  // How long to wait for the ready line.
  absl::Duration start_timeout = absl::Seconds(60);
};

// A running wxgate-emulator (tests/emulator) on 127.0.0.1, a free port and
// its own test CA, in a fresh state directory removed on destruction. The
// destructor kills it if Stop() was not called.
//
//   ASSERT_OK_AND_ASSIGN(auto emulator, EmulatorProcess::Start());
//   emulator->control().PostJson("/_emu/apps", R"({"kind":"mini_program",...})");
//   config.set_wechat_base_url(emulator->base_url());
//   config.set_ca_file(emulator->ca_file());
class EmulatorProcess {
 public:
  static absl::StatusOr<std::unique_ptr<EmulatorProcess>> Start(EmulatorOptions options = {});

  // Path of the emulator binary this build produced.
  static std::string BinaryPath();

  int port() const { return port_; }
  // "https://127.0.0.1:<port>": the value for wechat_base_url and wecom_base_url.
  const std::string& base_url() const { return base_url_; }
  // PEM of the emulator's CA: what a client must trust.
  const std::string& ca_file() const { return ca_file_; }
  const std::string& state_dir() const { return dir_.path(); }

  // A client for /_emu/... (and raw upstream paths) trusting ca_file().
  ControlClient& control() { return *control_; }
  Subprocess& process() { return *process_; }

  // SIGTERM and wait; a clean stop is exit code 0.
  absl::StatusOr<ExitStatus> Stop(absl::Duration timeout = absl::Seconds(60));

 private:
  explicit EmulatorProcess(TempDir dir) : dir_(std::move(dir)) {}

  TempDir dir_;
  std::unique_ptr<Subprocess> process_;
  std::unique_ptr<ControlClient> control_;
  int port_ = 0;
  std::string base_url_;
  std::string ca_file_;
};

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_EMULATOR_PROCESS_H_
