// config::ParseConfig(text, "fuzz", env) on the input as config text.
//
// The env lookup hands out a fixed secret for every variable, except names
// starting UNSET (unset), EMPTY (""), SPACED (the secret, a space, the secret:
// not plausible) and LONG (the secret repeated past 512 bytes).
//
// ParseConfig reads the files a config names (secret { file }, ca_file).
// So that the fuzzer reads no file of this machine (and cannot block on
// /dev/stdin or read /dev/zero forever), an input is only run when every
// such path either does not exist or lies in a sandbox directory this harness
// fills, /tmp/wxgate-fuzz-config/ (no ".."), holding:
//   secret          a plausible secret and a newline (kFileSecret)
//   secret-spaces   "has spaces\n"          empty    ""
//   ca.pem          one PEM certificate     not-ca.pem  no PEM marker
//   dir/            a directory
// Other inputs are skipped (-1: libFuzzer does not keep them).
//
// Invariants: no crash; errors are INVALID_ARGUMENT, NOT_FOUND or
// PERMISSION_DENIED, and name the source "fuzz"; no message holds the env
// secret or the file secret. The env secret is checked differentially: the
// input is parsed twice, with two env secrets of one length and shape, and
// the outcomes must be the same but for the secret values themselves.
#include <fcntl.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/config/config.h"
#include "tests/fuzz/fuzz_check.h"
#include "wxgate/config/v1/config.pb.h"

namespace wxgate::fuzz {
namespace {

namespace v1 = ::wxgate::config::v1;

constexpr absl::string_view kEnvSecret = "EnvSecret-9c41f0b2d7e6a385";
constexpr absl::string_view kEnvSecretTwin = "EnvSecret-5a3e27c9b1d04f68";
constexpr absl::string_view kFileSecret = "FileSecret-e1b7c3a90f2d4856";
constexpr absl::string_view kSandbox = "/tmp/wxgate-fuzz-config";

config::EnvLookup FakeEnv(absl::string_view secret) {
  return [secret](const std::string& name) -> std::optional<std::string> {
    if (absl::StartsWith(name, "UNSET")) return std::nullopt;
    if (absl::StartsWith(name, "EMPTY")) return std::string();
    if (absl::StartsWith(name, "SPACED")) return absl::StrCat(secret, " ", secret);
    if (absl::StartsWith(name, "LONG")) {
      std::string value;
      while (value.size() <= 512) absl::StrAppend(&value, secret);
      return value;
    }
    return std::string(secret);
  };
}

// Writes `content` to `path` unless it already holds it; rename() keeps a
// concurrent reader (another fuzzer, a parallel ctest) from seeing half of it.
bool WriteFixture(const std::string& path, absl::string_view content) {
  absl::StatusOr<std::string> old = config::ReadFile(path);
  if (old.ok() && *old == content) return true;
  const std::string temp = absl::StrCat(path, ".", getpid());
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
  if (fd < 0) return false;
  const bool written =
      write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  close(fd);
  return written && rename(temp.c_str(), path.c_str()) == 0;
}

// Whether the sandbox is ours and filled; false leaves inputs that name it
// unrun.
bool PrepareSandbox() {
  const std::string dir(kSandbox);
  mkdir(dir.c_str(), 0700);
  mkdir((dir + "/dir").c_str(), 0700);
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
    std::fprintf(stderr, "config_fuzzer: %s is not a directory of ours; file inputs skipped\n",
                 dir.c_str());
    return false;
  }
  return WriteFixture(dir + "/secret", absl::StrCat(kFileSecret, "\n")) &&
         WriteFixture(dir + "/secret-spaces", "has spaces\n") && WriteFixture(dir + "/empty", "") &&
         WriteFixture(dir + "/ca.pem",
                      "-----BEGIN CERTIFICATE-----\nMIIBfuzz\n-----END CERTIFICATE-----\n") &&
         WriteFixture(dir + "/not-ca.pem", "not a certificate\n");
}

// Whether ParseConfig may open `path`: ReadFile hands it to std::ifstream,
// which stops at the first NUL, as stat() does.
bool SafeToRead(const std::string& path, bool sandbox_ready) {
  const std::string c_path(path.c_str());
  if (absl::StartsWith(c_path, absl::StrCat(kSandbox, "/")) && !absl::StrContains(c_path, "..")) {
    return sandbox_ready;
  }
  struct stat st;
  return stat(c_path.c_str(), &st) != 0;  // nothing there: the read fails at once
}

const v1::Secret* SecretOf(const v1::App& app) {
  switch (app.kind_case()) {
    case v1::App::kMiniProgram:
      return &app.mini_program().secret();
    case v1::App::kOfficialAccount:
      return &app.official_account().secret();
    case v1::App::kWecomApp:
      return &app.wecom_app().secret();
    case v1::App::kWebsiteApp:
      return &app.website_app().secret();
    case v1::App::kMobileApp:
      return &app.mobile_app().secret();
    case v1::App::KIND_NOT_SET:
      break;
  }
  return nullptr;
}

// Whether every file the config names is safe to read. A text that does not
// parse names none: ParseConfig stops at the same syntax error.
bool FilesAreSafe(const std::string& text, bool sandbox_ready) {
  v1::Config proto;
  google::protobuf::TextFormat::Parser parser;
  parser.AllowPartialMessage(false);
  // Quiet: ParseConfig reports syntax errors itself.
  class Silent final : public google::protobuf::io::ErrorCollector {
    void AddError(int, int, const std::string&) override {}
  } silent;
  parser.RecordErrorsTo(&silent);
  if (!parser.ParseFromString(text, &proto)) return true;
  if (!proto.upstream().ca_file().empty() &&
      !SafeToRead(proto.upstream().ca_file(), sandbox_ready)) {
    return false;
  }
  for (const v1::App& app : proto.apps()) {
    const v1::Secret* secret = SecretOf(app);
    if (secret != nullptr && secret->source_case() == v1::Secret::kFile &&
        !SafeToRead(secret->file(), sandbox_ready)) {
      return false;
    }
  }
  return true;
}

void CheckError(absl::string_view text, const absl::Status& status) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument ||
                 status.code() == absl::StatusCode::kNotFound ||
                 status.code() == absl::StatusCode::kPermissionDenied,
             Describe(status));
  FUZZ_CHECK(absl::StartsWith(status.message(), "fuzz:"), "source not named: ", Describe(status));
  for (absl::string_view secret : {kEnvSecret, kEnvSecretTwin, kFileSecret}) {
    // (Unless the text spelled it out itself, e.g. in a malformed field.)
    FUZZ_CHECK(!absl::StrContains(status.message(), secret) || absl::StrContains(text, secret),
               "secret in ", Describe(status));
  }
}

}  // namespace
}  // namespace wxgate::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wxgate;        // NOLINT
  using namespace wxgate::fuzz;  // NOLINT
  static const bool sandbox_ready = PrepareSandbox();
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (!FilesAreSafe(text, sandbox_ready)) {
    FUZZ_LOG("skipped: names a file outside the sandbox");
    return -1;
  }

  const absl::StatusOr<config::Settings> one =
      config::ParseConfig(text, "fuzz", FakeEnv(kEnvSecret));
  const absl::StatusOr<config::Settings> two =
      config::ParseConfig(text, "fuzz", FakeEnv(kEnvSecretTwin));
  FUZZ_LOG(Outcome(one));
  FUZZ_CHECK(one.ok() == two.ok(),
             "the env secret's value decided: ", one.ok() ? "OK" : Describe(one.status()), " vs ",
             two.ok() ? "OK" : Describe(two.status()));
  if (!one.ok()) {
    CheckError(text, one.status());
    CheckError(text, two.status());
    FUZZ_CHECK(one.status().code() == two.status().code() &&
                   one.status().message() == two.status().message(),
               "the message depends on the env secret: ", Describe(one.status()), " vs ",
               Describe(two.status()));
    return 0;
  }
  FUZZ_CHECK(!one->apps.empty() && !one->listen_address.empty(), "accepted without apps");
  FUZZ_CHECK(one->apps.size() == two->apps.size(), "app count depends on the env secret");
  // (An inline secret { value } spelling out an env secret would blur which is which.)
  const bool env_secrets_in_text =
      absl::StrContains(text, kEnvSecret) || absl::StrContains(text, kEnvSecretTwin);
  for (size_t i = 0; i < one->apps.size(); ++i) {
    const config::App& a = one->apps[i];
    const config::App& b = two->apps[i];
    FUZZ_CHECK(!a.secret.empty() && a.secret.size() <= 512, "app ", a.name, ": secret accepted");
    for (unsigned char c : a.secret) FUZZ_CHECK(c > 0x20 && c < 0x7f, "app ", a.name, ": secret");
    FUZZ_CHECK(env_secrets_in_text || ((a.secret == kEnvSecret) == (b.secret == kEnvSecretTwin) &&
                                       (a.secret == kEnvSecret || a.secret == b.secret)),
               "app ", a.name, ": secrets of the two runs do not correspond");
    FUZZ_CHECK(a.name == b.name && one->FindApp(a.name) == &a, "app ", a.name, ": name");
    for (const std::string& host : a.allowed_page_hosts) {
      FUZZ_CHECK(!HasUpper(host), "app ", a.name, ": host pattern not lowercased: ", host);
    }
  }
  return 0;
}
