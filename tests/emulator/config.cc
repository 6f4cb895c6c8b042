#include "tests/emulator/config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "wxgate/config/v1/config.pb.h"

namespace wxgate::emulator {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

absl::StatusOr<std::string> ResolveSecret(const wxgate::config::v1::Secret& secret,
                                          absl::string_view app) {
  switch (secret.source_case()) {
    case wxgate::config::v1::Secret::kEnv: {
      const char* value = std::getenv(secret.env().c_str());
      if (value == nullptr || *value == '\0') {
        return absl::NotFoundError(
            absl::StrCat("app ", app, ": environment variable ", secret.env(), " is not set"));
      }
      return std::string(value);
    }
    case wxgate::config::v1::Secret::kFile: {
      absl::StatusOr<std::string> contents = ReadFile(secret.file());
      if (!contents.ok()) return contents.status();
      absl::string_view trimmed = *contents;
      while (absl::ConsumeSuffix(&trimmed, "\n") || absl::ConsumeSuffix(&trimmed, "\r")) {
      }
      return std::string(trimmed);
    }
    case wxgate::config::v1::Secret::kValue:
      return secret.value();
    case wxgate::config::v1::Secret::SOURCE_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat("app ", app, " has no secret"));
}

// Collects parse errors with their line and column.
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    absl::StrAppend(&errors_, "line ", line + 1, " column ", column + 1, ": ", message, "; ");
  }
  const std::string& errors() const { return errors_; }

 private:
  std::string errors_;
};

struct WeChatAppConfig {
  Emulator::AppKind kind;
  const std::string* app_id;
  const wxgate::config::v1::Secret* secret;
};

// The WeChat app a config entry describes, if it is one.
std::optional<WeChatAppConfig> WeChatAppOf(const wxgate::config::v1::App& app) {
  using Kind = Emulator::AppKind;
  switch (app.kind_case()) {
    case wxgate::config::v1::App::kMiniProgram:
      return WeChatAppConfig{Kind::kMiniProgram, &app.mini_program().app_id(),
                             &app.mini_program().secret()};
    case wxgate::config::v1::App::kOfficialAccount:
      return WeChatAppConfig{Kind::kOfficialAccount, &app.official_account().app_id(),
                             &app.official_account().secret()};
    case wxgate::config::v1::App::kWebsiteApp:
      return WeChatAppConfig{Kind::kWebsiteApp, &app.website_app().app_id(),
                             &app.website_app().secret()};
    case wxgate::config::v1::App::kMobileApp:
      return WeChatAppConfig{Kind::kMobileApp, &app.mobile_app().app_id(),
                             &app.mobile_app().secret()};
    default:
      return std::nullopt;
  }
}

}  // namespace

absl::Status RegisterAppsFromConfig(absl::string_view path, Emulator& emulator) {
  absl::StatusOr<std::string> text = ReadFile(std::string(path));
  if (!text.ok()) return text.status();
  wxgate::config::v1::Config config;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(*text, &config)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", errors.errors()));
  }
  for (const wxgate::config::v1::App& app : config.apps()) {
    absl::Status status;
    if (std::optional<WeChatAppConfig> wechat = WeChatAppOf(app)) {
      absl::StatusOr<std::string> secret = ResolveSecret(*wechat->secret, app.name());
      if (!secret.ok()) return secret.status();
      status =
          emulator.RegisterWeChatApp(wechat->kind, *wechat->app_id, *secret, kConfigOpenPlatform);
    } else if (app.has_wecom_app()) {
      absl::StatusOr<std::string> secret = ResolveSecret(app.wecom_app().secret(), app.name());
      if (!secret.ok()) return secret.status();
      status =
          emulator.RegisterWeComApp(app.wecom_app().corp_id(), app.wecom_app().agent_id(), *secret);
    } else {
      continue;
    }
    if (!status.ok())
      return absl::InvalidArgumentError(absl::StrCat("app ", app.name(), ": ", status.message()));
  }
  return absl::OkStatus();
}

}  // namespace wxgate::emulator
