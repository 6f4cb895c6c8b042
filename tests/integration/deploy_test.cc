// deploy/ stays deployable: the example config and the Kubernetes ConfigMap
// pass `wxgate --check_config` once the variables and files they name exist,
// the example shows every field of the schema and no inline secret, and the
// stop timeouts of systemd and Kubernetes outlast wxgate's drain.
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/wxgate_process.h"
#include "wxgate/config/v1/config.pb.h"

#ifndef WXGATE_SOURCE_DIR
#error "WXGATE_SOURCE_DIR must name the source tree"
#endif

namespace wxgate::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// What wxgate adds to its drain after the grace: Server::Shutdown's settle
// (server/grpc/server.h).
constexpr int kSettleSeconds = 5;

std::string SourceFile(absl::string_view relative) {
  return absl::StrCat(WXGATE_SOURCE_DIR, "/", relative);
}

std::string Read(absl::string_view relative) {
  absl::StatusOr<std::string> text = ReadFileToString(SourceFile(relative));
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

// `text` without its '#' comments (a '#' inside a string is kept), so only
// what wxgate would act on is searched.
std::string WithoutComments(absl::string_view text) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    bool in_string = false;
    size_t end = line.size();
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\\' && in_string) {
        ++i;
      } else if (line[i] == '"') {
        in_string = !in_string;
      } else if (line[i] == '#' && !in_string) {
        end = i;
        break;
      }
    }
    absl::StrAppend(&out, line.substr(0, end), "\n");
  }
  return out;
}

// Every first capture group of `pattern` in `text`.
std::vector<std::string> Captures(const std::string& text, const std::string& pattern) {
  std::vector<std::string> out;
  std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

int FirstInt(const std::string& text, const std::string& pattern) {
  std::vector<std::string> found = Captures(text, pattern);
  int value = -1;
  if (found.empty() || !absl::SimpleAtoi(found[0], &value)) {
    ADD_FAILURE() << "no match for " << pattern;
  }
  return value;
}

// Distinct for each `n`, and the base64 of 32 bytes, so that it serves as a
// store encryption key as well as an app secret or a password.
std::string FakeSecret(absl::string_view source, int n) {
  std::string raw = absl::StrCat("deploySECRET", source, n, "x7f0c2a");
  raw.resize(32, '.');
  return absl::Base64Escape(raw);
}

// Runs `wxgate --check_config` on `config` after providing what it names:
// each `env: "X"` variable, each `file:` (written to a temp dir, the path
// rewritten), and `ca_file` (the emulator's CA). Secrets are distinctive and
// checked to appear nowhere in the output.
class CheckConfigRunner {
 public:
  static absl::StatusOr<std::unique_ptr<CheckConfigRunner>> Create() {
    absl::StatusOr<TempDir> dir = TempDir::Create("wxgate-deploy-test");
    if (!dir.ok()) return dir.status();
    absl::StatusOr<std::unique_ptr<EmulatorProcess>> emulator = EmulatorProcess::Start();
    if (!emulator.ok()) return emulator.status();
    return std::unique_ptr<CheckConfigRunner>(
        new CheckConfigRunner(*std::move(dir), *std::move(emulator)));
  }

  // The env var names and secret file paths the config used.
  std::vector<std::string> env_names;
  std::vector<std::string> secret_files;

  RunResult Check(const std::string& config) {
    std::string active = WithoutComments(config);
    std::vector<std::pair<std::string, std::string>> replacements;
    EnvVars env;
    std::vector<std::string> secrets;
    int n = 0;
    for (const std::string& name : Captures(active, R"re(\benv\s*:\s*"([^"]+)")re")) {
      env_names.push_back(name);
      secrets.push_back(FakeSecret("env", ++n));
      env.emplace_back(name, secrets.back());
    }
    for (const std::string& path : Captures(active, R"re((?:^|[^_\w])file\s*:\s*"([^"]+)")re")) {
      secret_files.push_back(path);
      secrets.push_back(FakeSecret("file", ++n));
      absl::StatusOr<std::string> local =
          dir_.WriteFile(absl::StrCat("secret", n), absl::StrCat(secrets.back(), "\n"));
      EXPECT_TRUE(local.ok()) << local.status();
      replacements.emplace_back(absl::StrCat("\"", path, "\""), absl::StrCat("\"", *local, "\""));
    }
    for (const std::string& path : Captures(active, R"re(\bca_file\s*:\s*"([^"]+)")re")) {
      replacements.emplace_back(absl::StrCat("\"", path, "\""),
                                absl::StrCat("\"", emulator_->ca_file(), "\""));
    }
    std::string local_config = config;
    for (const auto& [from, to] : replacements) {
      local_config = absl::StrReplaceAll(local_config, {{from, to}});
    }
    absl::StatusOr<std::string> path = dir_.WriteFile("wxgate.textproto", local_config);
    EXPECT_TRUE(path.ok()) << path.status();
    absl::StatusOr<RunResult> run =
        RunWxgate({absl::StrCat("--config=", *path), "--check_config"}, env);
    EXPECT_TRUE(run.ok()) << run.status();
    if (!run.ok()) return {};
    for (const std::string& secret : secrets) {
      EXPECT_THAT(run->out + run->err, Not(HasSubstr(secret)));
    }
    return *std::move(run);
  }

 private:
  CheckConfigRunner(TempDir dir, std::unique_ptr<EmulatorProcess> emulator)
      : dir_(std::move(dir)), emulator_(std::move(emulator)) {}

  TempDir dir_;
  std::unique_ptr<EmulatorProcess> emulator_;
};

// The block scalar under `key: |` in a YAML file, indentation removed.
std::string YamlBlock(const std::string& yaml, absl::string_view key) {
  std::vector<std::string> lines = absl::StrSplit(yaml, '\n');
  std::string out;
  size_t key_indent = std::string::npos;
  size_t block_indent = std::string::npos;
  for (const std::string& line : lines) {
    size_t indent = line.find_first_not_of(' ');
    if (key_indent == std::string::npos) {
      if (indent != std::string::npos &&
          absl::StartsWith(line.substr(indent), absl::StrCat(key, ": |"))) {
        key_indent = indent;
      }
      continue;
    }
    if (indent == std::string::npos) {  // blank lines belong to the block
      out += "\n";
      continue;
    }
    if (indent <= key_indent) break;
    if (block_indent == std::string::npos) block_indent = indent;
    absl::StrAppend(&out, line.substr(std::min(indent, block_indent)), "\n");
  }
  return out;
}

TEST(DeployExampleTest, CheckConfigAcceptsTheExampleGivenItsSecrets) {
  absl::StatusOr<std::unique_ptr<CheckConfigRunner>> runner = CheckConfigRunner::Create();
  ASSERT_TRUE(runner.ok()) << runner.status();
  RunResult run = (*runner)->Check(Read("deploy/wxgate.example.textproto"));
  EXPECT_TRUE(run.exit.success()) << run.exit.ToString() << "\n" << run.err;
  EXPECT_THAT(run.out, HasSubstr("valid; 4 apps"));
  // The example shows both ways of passing a secret.
  EXPECT_FALSE((*runner)->env_names.empty());
  EXPECT_FALSE((*runner)->secret_files.empty());
  // LoadCredential puts them there; deploy/wxgate.service must load each one.
  std::string unit = Read("deploy/wxgate.service");
  for (const std::string& file : (*runner)->secret_files) {
    absl::string_view name = file;
    ASSERT_TRUE(absl::ConsumePrefix(&name, "/run/credentials/wxgate.service/")) << file;
    EXPECT_THAT(unit, HasSubstr(absl::StrCat("\nLoadCredential=", name, ":"))) << file;
  }
}

TEST(DeployExampleTest, ExampleHasNoInlineSecret) {
  std::string active = WithoutComments(Read("deploy/wxgate.example.textproto"));
  EXPECT_TRUE(Captures(active, R"re(\bvalue\s*:\s*"([^"]*)")re").empty());
  // ...but does show the dev-only form, in a comment that says so.
  std::string full = Read("deploy/wxgate.example.textproto");
  EXPECT_THAT(full, HasSubstr("DEVELOPMENT ONLY"));
  EXPECT_THAT(full, HasSubstr("secret { value: "));
}

// Adding a field to config.proto without documenting it here fails this test.
TEST(DeployExampleTest, ExampleShowsEveryFieldOfTheSchema) {
  std::string active = WithoutComments(Read("deploy/wxgate.example.textproto"));
  std::set<std::string> seen;
  std::vector<const google::protobuf::Descriptor*> pending = {
      ::wxgate::config::v1::Config::descriptor()};
  while (!pending.empty()) {
    const google::protobuf::Descriptor* message = pending.back();
    pending.pop_back();
    if (!seen.insert(message->full_name()).second) continue;
    for (int i = 0; i < message->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* field = message->field(i);
      if (field->message_type() != nullptr &&
          !absl::StartsWith(field->message_type()->full_name(), "google.protobuf.")) {
        pending.push_back(field->message_type());
      }
      // Secret.value is the one field production must not use.
      if (field->full_name() == "wxgate.config.v1.Secret.value") continue;
      std::string pattern = absl::StrCat(R"re((?:^|[^_\w]))re", field->name(), R"re(\s*[:{])re");
      EXPECT_TRUE(std::regex_search(active, std::regex(pattern)))
          << field->full_name() << " is not shown in deploy/wxgate.example.textproto";
    }
  }
}

TEST(DeployKubernetesTest, ConfigMapPassesCheckConfigAndItsSecretsComeFromTheSecret) {
  std::string config = YamlBlock(Read("deploy/kubernetes/configmap.yaml"), "wxgate.textproto");
  ASSERT_THAT(config, HasSubstr("listen_address"));
  absl::StatusOr<std::unique_ptr<CheckConfigRunner>> runner = CheckConfigRunner::Create();
  ASSERT_TRUE(runner.ok()) << runner.status();
  RunResult run = (*runner)->Check(config);
  EXPECT_TRUE(run.exit.success()) << run.exit.ToString() << "\n" << run.err << "\n" << config;
  EXPECT_THAT(config, HasSubstr("listen_address: \"0.0.0.0:"));

  std::string deployment = Read("deploy/kubernetes/deployment.yaml");
  ASSERT_FALSE((*runner)->env_names.empty());
  EXPECT_TRUE((*runner)->secret_files.empty()) << "in Kubernetes secrets come as env";
  for (const std::string& name : (*runner)->env_names) {
    EXPECT_THAT(deployment,
                HasSubstr(absl::StrCat("- name: ", name,
                                       "\n              valueFrom:\n"
                                       "                secretKeyRef: {name: wxgate-secrets, key: ",
                                       name, "}")))
        << name;
  }
}

TEST(DeployKubernetesTest, TerminationGraceOutlastsTheDrain) {
  std::string config = YamlBlock(Read("deploy/kubernetes/configmap.yaml"), "wxgate.textproto");
  std::string deployment = Read("deploy/kubernetes/deployment.yaml");
  int grace = FirstInt(config, R"re(shutdown_grace\s*\{\s*seconds:\s*(\d+))re");
  int pre_stop = FirstInt(deployment, R"re("/bin/sleep",\s*"(\d+)")re");
  int termination = FirstInt(deployment, R"re(terminationGracePeriodSeconds:\s*(\d+))re");
  EXPECT_GT(termination, pre_stop + grace + kSettleSeconds);
  EXPECT_THAT(deployment, HasSubstr("grpc: {port: 50051}"));
}

TEST(DeploySystemdTest, TimeoutStopOutlastsTheDrain) {
  std::string example = WithoutComments(Read("deploy/wxgate.example.textproto"));
  std::string unit = Read("deploy/wxgate.service");
  int grace = FirstInt(example, R"re(shutdown_grace\s*\{\s*seconds:\s*(\d+))re");
  int timeout = FirstInt(unit, R"re(\nTimeoutStopSec=(\d+)s?\n)re");
  EXPECT_GT(timeout, grace + kSettleSeconds);
  EXPECT_THAT(unit, HasSubstr("\nDynamicUser=yes\n"));
  EXPECT_THAT(unit, HasSubstr("\nRestart=on-failure\n"));
  EXPECT_THAT(unit, HasSubstr("\nKillSignal=SIGTERM\n"));
}

}  // namespace
}  // namespace wxgate::test
