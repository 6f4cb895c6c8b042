#include "tests/support/emulator_process.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/json.h"

#ifndef WXGATE_EMULATOR_PATH
#error "WXGATE_EMULATOR_PATH must name the wxgate-emulator binary"
#endif

namespace wxgate::test {

std::string EmulatorProcess::BinaryPath() { return WXGATE_EMULATOR_PATH; }

absl::StatusOr<std::unique_ptr<EmulatorProcess>> EmulatorProcess::Start(EmulatorOptions options) {
  absl::StatusOr<TempDir> dir = TempDir::Create("wxgate-emulator");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<EmulatorProcess> emulator(new EmulatorProcess(*std::move(dir)));

  Subprocess::Options process_options;
  process_options.argv = {BinaryPath(), "--listen=127.0.0.1:0",
                          absl::StrCat("--state-dir=", emulator->state_dir())};
  if (!options.config_file.empty()) {
    process_options.argv.push_back(absl::StrCat("--config=", options.config_file));
  }
  if (options.threads > 0) {
    process_options.argv.push_back(absl::StrCat("--threads=", options.threads));
  }
  if (options.quiet) process_options.argv.emplace_back("--quiet");
  for (std::string& arg : options.extra_args) process_options.argv.push_back(std::move(arg));
  process_options.env = std::move(options.env);
  process_options.echo_stderr = options.echo_stderr;
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Start(process_options);
  if (!process.ok()) return process.status();
  emulator->process_ = *std::move(process);

  absl::StatusOr<std::string> line = emulator->process_->WaitForLine(
      Subprocess::Stream::kStdout,
      [](absl::string_view l) { return absl::StartsWith(l, "{\"port\":"); }, options.start_timeout);
  if (!line.ok()) {
    return absl::Status(
        line.status().code(),
        absl::StrCat("wxgate-emulator did not start: ", line.status().message(), "; its stderr:\n",
                     emulator->process_->Output(Subprocess::Stream::kStderr)));
  }
  absl::StatusOr<JsonDoc> ready = JsonDoc::Parse(*line);
  if (!ready.ok()) return ready.status();
  absl::StatusOr<int64_t> port = ready->GetInt("/port");
  absl::StatusOr<std::string> ca_file = ready->GetString("/ca_file");
  absl::StatusOr<std::string> base_url = ready->GetString("/base_url");
  if (!port.ok() || !ca_file.ok() || !base_url.ok()) {
    return absl::InternalError(absl::StrCat("unexpected ready line: ", *line));
  }
  emulator->port_ = static_cast<int>(*port);
  emulator->ca_file_ = *std::move(ca_file);
  emulator->base_url_ = *std::move(base_url);
  emulator->control_ = std::make_unique<ControlClient>(emulator->base_url_, emulator->ca_file_);
  return emulator;
}

absl::StatusOr<ExitStatus> EmulatorProcess::Stop(absl::Duration timeout) {
  return process_->Terminate(timeout);
}

}  // namespace wxgate::test
