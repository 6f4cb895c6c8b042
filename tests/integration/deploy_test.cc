// deploy/ stays deployable: the example config and the Kubernetes ConfigMap
// pass `wxgate --check_config` once the variables and files they name exist,
// the example shows every field of the schema and no inline secret, the
// Kubernetes manifests agree with one another (each secret the config names
// is provided, the store is the Redis Service with the Redis password), and
// the stop timeouts of systemd and Kubernetes outlast wxgate's drain.
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_ca.h"
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

// Every match of `pattern` in `text`, as its capture groups (from 1).
std::vector<std::vector<std::string>> Matches(const std::string& text, const std::string& pattern) {
  std::vector<std::vector<std::string>> out;
  std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    std::vector<std::string> groups;
    for (size_t i = 1; i < it->size(); ++i) groups.push_back((*it)[i].str());
    out.push_back(std::move(groups));
  }
  return out;
}

// Every first capture group of `pattern` in `text`.
std::vector<std::string> Captures(const std::string& text, const std::string& pattern) {
  std::vector<std::string> out;
  for (std::vector<std::string>& groups : Matches(text, pattern)) out.push_back(groups[0]);
  return out;
}

// The first capture group of the first match; "" (and a failure) if none.
std::string First(const std::string& text, const std::string& pattern) {
  std::vector<std::string> found = Captures(text, pattern);
  if (found.empty()) {
    ADD_FAILURE() << "no match for " << pattern;
    return "";
  }
  return found[0];
}

int FirstInt(const std::string& text, const std::string& pattern) {
  int value = -1;
  if (!absl::SimpleAtoi(First(text, pattern), &value)) {
    ADD_FAILURE() << "not a number: " << pattern;
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
// rewritten), `ca_file` (the emulator's CA), and server.tls's files (a test
// CA's server certificate, key and CA). Secrets are distinctive
// unless `given` names the value of a variable or file, and are checked to
// appear nowhere in the output.
class CheckConfigRunner {
 public:
  static absl::StatusOr<std::unique_ptr<CheckConfigRunner>> Create() {
    absl::StatusOr<TempDir> dir = TempDir::Create("wxgate-deploy-test");
    if (!dir.ok()) return dir.status();
    absl::StatusOr<std::unique_ptr<EmulatorProcess>> emulator = EmulatorProcess::Start();
    if (!emulator.ok()) return emulator.status();
    absl::StatusOr<TestCa> ca = TestCa::Create(dir->path(), "callers");
    if (!ca.ok()) return ca.status();
    absl::StatusOr<CertFiles> server = ca->Issue("server", TestCa::Leaf());
    if (!server.ok()) return server.status();
    return std::unique_ptr<CheckConfigRunner>(new CheckConfigRunner(
        *std::move(dir), *std::move(emulator), *std::move(ca), *std::move(server)));
  }

  // The env var names and secret file paths the config used.
  std::vector<std::string> env_names;
  std::vector<std::string> secret_files;

  RunResult Check(const std::string& config, const std::map<std::string, std::string>& given = {}) {
    std::string active = WithoutComments(config);
    std::vector<std::pair<std::string, std::string>> replacements;
    EnvVars env;
    std::vector<std::string> secrets;
    int n = 0;
    auto value = [&given, &n](const std::string& name, absl::string_view source) {
      ++n;
      auto it = given.find(name);
      return it != given.end() ? it->second : FakeSecret(source, n);
    };
    for (const std::string& name : Captures(active, R"re(\benv\s*:\s*"([^"]+)")re")) {
      env_names.push_back(name);
      secrets.push_back(value(name, "env"));
      env.emplace_back(name, secrets.back());
    }
    // audit.file is where lines go, not a secret.
    const std::vector<std::string> audit_files =
        Captures(active, R"re(\baudit\s*\{\s*file\s*:\s*"([^"]+)")re");
    for (const std::string& path : Captures(active, R"re((?:^|[^_\w])file\s*:\s*"([^"]+)")re")) {
      if (absl::c_linear_search(audit_files, path)) continue;
      secret_files.push_back(path);
      secrets.push_back(value(path, "file"));
      absl::StatusOr<std::string> local =
          dir_.WriteFile(absl::StrCat("secret", n), absl::StrCat(secrets.back(), "\n"));
      EXPECT_TRUE(local.ok()) << local.status();
      replacements.emplace_back(absl::StrCat("\"", path, "\""), absl::StrCat("\"", *local, "\""));
    }
    for (const std::string& path : Captures(active, R"re(\bca_file\s*:\s*"([^"]+)")re")) {
      replacements.emplace_back(absl::StrCat("\"", path, "\""),
                                absl::StrCat("\"", emulator_->ca_file(), "\""));
    }
    for (const auto& [field, local] :
         {std::pair<const char*, std::string>{"cert_file", server_.cert_file},
          {"key_file", server_.key_file},
          {"client_ca_file", ca_.ca_file()}}) {
      for (const std::string& path :
           Captures(active, absl::StrCat(R"re(\b)re", field, R"re(\s*:\s*"([^"]+)")re"))) {
        replacements.emplace_back(absl::StrCat("\"", path, "\""), absl::StrCat("\"", local, "\""));
      }
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
  CheckConfigRunner(TempDir dir, std::unique_ptr<EmulatorProcess> emulator, TestCa ca,
                    CertFiles server)
      : dir_(std::move(dir)),
        emulator_(std::move(emulator)),
        ca_(std::move(ca)),
        server_(std::move(server)) {}

  TempDir dir_;
  std::unique_ptr<EmulatorProcess> emulator_;
  TestCa ca_;
  CertFiles server_;
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

constexpr absl::string_view kKubernetes = "deploy/kubernetes";

std::string KubernetesFile(absl::string_view name) {
  return Read(absl::StrCat(kKubernetes, "/", name));
}

// wxgate's config, as the ConfigMap holds it.
std::string ConfigMapConfig() {
  return YamlBlock(KubernetesFile("configmap.yaml"), "wxgate.textproto");
}

// The one document of `kind` in a manifest file of deploy/kubernetes.
std::string Manifest(absl::string_view file, absl::string_view kind) {
  std::vector<std::string> found;
  for (absl::string_view doc : absl::StrSplit(KubernetesFile(file), "\n---\n")) {
    if (absl::StrContains(doc, absl::StrCat("\nkind: ", kind, "\n"))) found.emplace_back(doc);
  }
  EXPECT_EQ(found.size(), 1u) << file << " should hold one " << kind;
  return found.empty() ? "" : found[0];
}

std::string ManifestName(const std::string& manifest) {
  return First(manifest, R"re(\nmetadata:\n  name: ([\w.-]+)\n)re");
}

// The first label of a workload's pod template.
std::string PodLabel(const std::string& workload) {
  return First(workload, R"re(\n  template:\n    metadata:\n      labels:\n +(\S+: \S+)\n)re");
}

// "<secret>/<item>" of each environment variable a manifest takes from a
// Secret, by variable name.
std::map<std::string, std::string> SecretEnv(const std::string& manifest) {
  std::map<std::string, std::string> out;
  for (
      const std::vector<std::string>& env : Matches(
          manifest,
          R"re(- name: (\w+)\n +valueFrom:\n +secretKeyRef: \{name: ([\w.-]+), key: ([\w.-]+)\})re")) {
    out[env[0]] = absl::StrCat(env[1], "/", env[2]);
  }
  return out;
}

// "<secret>/<item>" of the file at `path` in a pod whose manifest mounts a
// whole Secret (every item a file) on the file's directory; "" when none is
// mounted there.
std::string SecretFile(const std::string& manifest, absl::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return "";
  const absl::string_view dir = path.substr(0, slash);
  const absl::string_view item = path.substr(slash + 1);
  for (const std::vector<std::string>& mount :
       Matches(manifest, R"re(- name: ([\w.-]+)\n +mountPath: (\S+)\n)re")) {
    if (mount[1] != dir) continue;
    for (const std::vector<std::string>& volume :
         Matches(manifest, R"re(- name: ([\w.-]+)\n +secret:\n +secretName: ([\w.-]+)\n)re")) {
      if (volume[0] == mount[0]) return absl::StrCat(volume[1], "/", item);
    }
  }
  return "";
}

// "<secret>/<item>" of every item secret.example.yaml shows, the
// commented-out ones (needed only during a key rotation) included.
std::set<std::string> SecretExampleItems() {
  std::set<std::string> out;
  for (absl::string_view doc : absl::StrSplit(KubernetesFile("secret.example.yaml"), "\n---\n")) {
    const std::string text(doc);
    const size_t data = text.find("\nstringData:\n");
    if (data == std::string::npos) continue;
    const std::string name = ManifestName(text);
    for (const std::string& item : Captures(text.substr(data), R"re(\n  (?:# )?([\w.-]+): ")re")) {
      out.insert(absl::StrCat(name, "/", item));
    }
  }
  return out;
}

TEST(DeployExampleTest, CheckConfigAcceptsTheExampleGivenItsSecrets) {
  absl::StatusOr<std::unique_ptr<CheckConfigRunner>> runner = CheckConfigRunner::Create();
  ASSERT_TRUE(runner.ok()) << runner.status();
  RunResult run = (*runner)->Check(Read("deploy/wxgate.example.textproto"));
  EXPECT_TRUE(run.exit.success()) << run.exit.ToString() << "\n" << run.err;
  EXPECT_THAT(run.out, HasSubstr("valid; 6 apps"));
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

TEST(DeployKubernetesTest, ConfigMapPassesCheckConfigAndEverySecretItNamesIsProvided) {
  const std::string config = ConfigMapConfig();
  ASSERT_THAT(config, HasSubstr("listen_address"));
  absl::StatusOr<std::unique_ptr<CheckConfigRunner>> runner = CheckConfigRunner::Create();
  ASSERT_TRUE(runner.ok()) << runner.status();
  RunResult run = (*runner)->Check(config);
  EXPECT_TRUE(run.exit.success()) << run.exit.ToString() << "\n" << run.err << "\n" << config;
  EXPECT_THAT(config, HasSubstr("listen_address: \"0.0.0.0:"));
  // During a key rotation the commented-out previous key is read as well.
  const std::string rotating =
      absl::StrReplaceAll(config, {{"# previous_encryption_keys", "previous_encryption_keys"}});
  ASSERT_NE(rotating, config);
  run = (*runner)->Check(rotating);
  EXPECT_TRUE(run.exit.success()) << run.exit.ToString() << "\n" << run.err;

  // Each variable comes from a Secret item, each file from a mounted Secret,
  // and secret.example.yaml shows every one of those items.
  const std::string deployment = Manifest("deployment.yaml", "Deployment");
  const std::map<std::string, std::string> env = SecretEnv(deployment);
  const std::set<std::string> shown = SecretExampleItems();
  ASSERT_FALSE((*runner)->env_names.empty());
  ASSERT_FALSE((*runner)->secret_files.empty());
  for (const std::string& name : (*runner)->env_names) {
    auto it = env.find(name);
    ASSERT_NE(it, env.end()) << name << " is not set from a Secret in deployment.yaml";
    EXPECT_TRUE(shown.contains(it->second)) << it->second;
  }
  for (const std::string& path : (*runner)->secret_files) {
    const std::string item = SecretFile(deployment, path);
    EXPECT_NE(item, "") << path << " is not in a Secret mounted by deployment.yaml";
    EXPECT_TRUE(shown.contains(item)) << item;
  }
}

TEST(DeployKubernetesTest, SecretExampleShowsEveryItemReadAndItsPlaceholderKeyIsRefused) {
  const std::set<std::string> shown = SecretExampleItems();
  for (const std::string file : {"deployment.yaml", "redis.yaml"}) {
    for (const auto& [name, item] : SecretEnv(Manifest(file, "Deployment"))) {
      EXPECT_TRUE(shown.contains(item)) << file << ": " << name << " reads " << item;
    }
  }
  // Applied as it is, the example cannot run with a key everyone can read.
  const std::string config = ConfigMapConfig();
  const std::string key_file =
      First(WithoutComments(config), R"re(\bencryption_key\s*\{\s*file:\s*"([^"]+)")re");
  const std::string placeholder =
      First(KubernetesFile("secret.example.yaml"), R"re(\n  key: "([^"]+)")re");
  absl::StatusOr<std::unique_ptr<CheckConfigRunner>> runner = CheckConfigRunner::Create();
  ASSERT_TRUE(runner.ok()) << runner.status();
  RunResult run = (*runner)->Check(config, {{key_file, placeholder}});
  EXPECT_FALSE(run.exit.success());
  EXPECT_THAT(run.err, HasSubstr("store.encryption_key"));
  EXPECT_THAT(run.err, HasSubstr("not base64"));
}

TEST(DeployKubernetesTest, ThreeReplicasAndABudgetThatKeepsTwoServing) {
  const std::string deployment = Manifest("deployment.yaml", "Deployment");
  const std::string budget = Manifest("pdb.yaml", "PodDisruptionBudget");
  const int replicas = FirstInt(deployment, R"re(\n  replicas: (\d+)\n)re");
  EXPECT_EQ(replicas, 3);
  // What a voluntary disruption may take: at least one pod, or node drains
  // block; at most all but two.
  const int may_take = absl::StrContains(budget, "maxUnavailable:")
                           ? FirstInt(budget, R"re(\n  maxUnavailable: (\d+)\n)re")
                           : replicas - FirstInt(budget, R"re(\n  minAvailable: (\d+)\n)re");
  EXPECT_GE(may_take, 1);
  EXPECT_GE(replicas - may_take, 2);
  EXPECT_EQ(First(budget, R"re(\n    matchLabels:\n +(\S+: \S+)\n)re"), PodLabel(deployment));
}

TEST(DeployKubernetesTest, TheStoreIsTheRedisServiceAndSharesItsPassword) {
  const std::string config = WithoutComments(ConfigMapConfig());
  const std::string deployment = Manifest("deployment.yaml", "Deployment");
  const std::string redis = Manifest("redis.yaml", "Deployment");
  const std::string service = Manifest("redis.yaml", "Service");
  // The config names the Service, and the Service reaches Redis's port
  // (6379: the Redis config sets no other).
  EXPECT_EQ(
      First(config, R"re(\baddress:\s*"([^"]+)")re"),
      absl::StrCat(ManifestName(service), ":", FirstInt(service, R"re(\n +port: (\d+)\n)re")));
  EXPECT_EQ(First(service, R"re(\n  selector:\n +(\S+: \S+)\n)re"), PodLabel(redis));
  EXPECT_THAT(redis,
              HasSubstr(absl::StrCat("- name: ", First(service, R"re(targetPort: ([\w-]+))re"),
                                     "\n              containerPort: 6379\n")));
  EXPECT_THAT(redis, Not(HasSubstr("\n              port ")));
  // wxgate's password and Redis's requirepass are one Secret item.
  const std::string password_env = First(config, R"re(\bpassword\s*\{\s*env:\s*"([^"]+)")re");
  const std::string requirepass_env = First(redis, R"re(\n +requirepass "\$(\w+)"\n)re");
  const std::map<std::string, std::string> wxgate_env = SecretEnv(deployment);
  const std::map<std::string, std::string> redis_env = SecretEnv(redis);
  ASSERT_TRUE(wxgate_env.contains(password_env)) << password_env;
  ASSERT_TRUE(redis_env.contains(requirepass_env)) << requirepass_env;
  EXPECT_EQ(wxgate_env.at(password_env), redis_env.at(requirepass_env));
}

// Left out: the Secrets' placeholders, and the ServiceMonitor, whose kind
// exists only where the Prometheus Operator is installed.
TEST(DeployKubernetesTest, KustomizationAppliesEveryManifestButTheSecretExampleAndServiceMonitor) {
  std::set<std::string> manifests;
  for (const auto& entry : std::filesystem::directory_iterator(SourceFile(kKubernetes))) {
    const std::string name = entry.path().filename().string();
    if (absl::EndsWith(name, ".yaml") && name != "kustomization.yaml" &&
        name != "secret.example.yaml" && name != "servicemonitor.yaml") {
      manifests.insert(name);
    }
  }
  const std::vector<std::string> resources =
      Captures(KubernetesFile("kustomization.yaml"), R"re(\n  - ([\w.-]+\.yaml))re");
  EXPECT_EQ(std::set<std::string>(resources.begin(), resources.end()), manifests);
  EXPECT_TRUE(manifests.contains("redis.yaml"));
  EXPECT_TRUE(manifests.contains("pdb.yaml"));
}

TEST(DeployKubernetesTest, TerminationGraceOutlastsTheDrain) {
  std::string config = ConfigMapConfig();
  std::string deployment = KubernetesFile("deployment.yaml");
  int grace = FirstInt(config, R"re(shutdown_grace\s*\{\s*seconds:\s*(\d+))re");
  int pre_stop = FirstInt(deployment, R"re("/bin/sleep",\s*"(\d+)")re");
  int termination = FirstInt(deployment, R"re(terminationGracePeriodSeconds:\s*(\d+))re");
  EXPECT_GT(termination, pre_stop + grace + kSettleSeconds);
}

// The kubelet's gRPC probes speak plaintext: with TLS on the listener they
// go to server.health_address, and the pod exposes that port.
TEST(DeployKubernetesTest, ProbesAskThePlaintextHealthPort) {
  std::string config = ConfigMapConfig();
  std::string deployment = KubernetesFile("deployment.yaml");
  EXPECT_THAT(config, HasSubstr("tls {"));
  int health_port = FirstInt(config, R"re(health_address:\s*"[^"]*:(\d+)")re");
  for (const char* probe : {"startupProbe", "readinessProbe", "livenessProbe"}) {
    EXPECT_EQ(FirstInt(deployment, absl::StrCat(probe, R"re(:\n\s*grpc: \{port: (\d+)\})re")),
              health_port)
        << probe;
  }
  EXPECT_THAT(deployment, HasSubstr(absl::StrCat("containerPort: ", health_port, "\n")));
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
