#include "tests/emulator/emulator.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "tests/emulator/crypto.h"

namespace wxgate::emulator {
namespace {

std::string FieldPointer(absl::string_view field) { return absl::StrCat("/", field); }

}  // namespace

absl::StatusOr<test::JsonDoc> ParseObject(absl::string_view body) {
  absl::StatusOr<test::JsonDoc> doc = test::JsonDoc::Parse(body);
  if (!doc.ok()) return doc.status();
  absl::StatusOr<simdjson::dom::element> root = doc->Get("");
  if (!root.ok() || !root->is_object()) {
    return absl::InvalidArgumentError("the body must be a JSON object");
  }
  return doc;
}

absl::StatusOr<std::string> OptionalString(const test::JsonDoc& doc, absl::string_view field,
                                           absl::string_view fallback) {
  absl::StatusOr<std::string> value = doc.GetString(FieldPointer(field));
  if (absl::IsNotFound(value.status())) return std::string(fallback);
  if (!value.ok()) return absl::InvalidArgumentError(absl::StrCat(field, " must be a string"));
  return value;
}

absl::StatusOr<int64_t> OptionalInt(const test::JsonDoc& doc, absl::string_view field,
                                    int64_t fallback) {
  absl::StatusOr<int64_t> value = doc.GetInt(FieldPointer(field));
  if (absl::IsNotFound(value.status())) return fallback;
  if (!value.ok()) return absl::InvalidArgumentError(absl::StrCat(field, " must be an integer"));
  return value;
}

absl::StatusOr<bool> OptionalBool(const test::JsonDoc& doc, absl::string_view field,
                                  bool fallback) {
  absl::StatusOr<bool> value = doc.GetBool(FieldPointer(field));
  if (absl::IsNotFound(value.status())) return fallback;
  if (!value.ok()) return absl::InvalidArgumentError(absl::StrCat(field, " must be a boolean"));
  return value;
}

absl::StatusOr<std::string> RequiredString(const test::JsonDoc& doc, absl::string_view field) {
  absl::StatusOr<std::string> value = doc.GetString(FieldPointer(field));
  if (absl::IsNotFound(value.status()) || (value.ok() && value->empty())) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  if (!value.ok()) return absl::InvalidArgumentError(absl::StrCat(field, " must be a string"));
  return value;
}

int64_t ChinaDay(absl::Time t) {
  static const absl::TimeZone kChinaStandardTime = absl::FixedTimeZone(8 * 3600);
  return absl::ToCivilDay(t, kChinaStandardTime) - absl::CivilDay(1970, 1, 1);
}

absl::Status Emulator::RegisterWeChatApp(AppKind kind, absl::string_view app_id,
                                         absl::string_view secret,
                                         absl::string_view open_platform) {
  if (app_id.empty() || secret.empty()) {
    return absl::InvalidArgumentError("app_id and secret are required");
  }
  absl::MutexLock lock(&mu_);
  WeChatApp& app = wechat_apps_[std::string(app_id)];
  app.kind = kind;
  app.secret = std::string(secret);
  app.open_platform = std::string(open_platform);
  return absl::OkStatus();
}

absl::Status Emulator::RegisterWeComApp(absl::string_view corp_id, int64_t agent_id,
                                        absl::string_view secret) {
  if (corp_id.empty() || secret.empty() || agent_id < 0) {
    return absl::InvalidArgumentError("corp_id, a non-negative agent_id and secret are required");
  }
  absl::MutexLock lock(&mu_);
  WeComCorp& corp = corps_[std::string(corp_id)];
  // An agent has one secret; agent-less secrets (customer contact, KF) are
  // told apart by the secret itself.
  auto it = std::find_if(corp.apps.begin(), corp.apps.end(), [&](const WeComApp& app) {
    return agent_id != 0 ? app.agent_id == agent_id : app.agent_id == 0 && app.secret == secret;
  });
  if (it == corp.apps.end()) it = corp.apps.insert(corp.apps.end(), WeComApp{});
  it->agent_id = agent_id;
  it->secret = std::string(secret);
  return absl::OkStatus();
}

std::string Emulator::IssueToken(Platform platform, absl::string_view app, int64_t agent_id,
                                 absl::string_view secret) {
  // Real tokens are long opaque strings (up to 512 bytes): make ours long too.
  std::string token = absl::StrCat(platform == Platform::kWeChat ? "wx_" : "ww_",
                                   RandomString(136, kTokenAlphabet));
  IssuedToken issued;
  issued.platform = platform;
  issued.app = std::string(app);
  issued.agent_id = agent_id;
  issued.secret = std::string(secret);
  issued.expires_at = Now() + absl::Seconds(settings_.token_ttl_s);
  tokens_[token] = std::move(issued);
  return token;
}

bool Emulator::TokenUsable(const std::string& token) const {
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return false;
  const absl::Time now = Now();
  return !it->second.revoked && now < it->second.expires_at && now < it->second.superseded_at;
}

absl::StatusOr<Emulator::TokenOwner> Emulator::CheckToken(const Request& request, Platform platform,
                                                          Reply* error) {
  const bool wechat = platform == Platform::kWeChat;
  if (!request.HasParam("access_token")) {
    *error = UpstreamError(platform, 41001, "access_token missing");
    return absl::InvalidArgumentError("no token");
  }
  auto it = tokens_.find(request.Param("access_token"));
  const absl::Time now = Now();
  if (it == tokens_.end() || it->second.platform != platform || it->second.revoked ||
      now >= it->second.superseded_at) {
    *error = wechat ? UpstreamError(platform, 40001,
                                    "invalid credential, access_token is invalid or not latest")
                    : UpstreamError(platform, 40014, "invalid access_token");
    return absl::InvalidArgumentError("bad token");
  }
  if (now >= it->second.expires_at) {
    *error = UpstreamError(platform, 42001, "access_token expired");
    return absl::InvalidArgumentError("expired token");
  }
  return TokenOwner{it->second.app, it->second.agent_id};
}

const Emulator::Ticket& Emulator::FreshTicket(Ticket& ticket) {
  if (ticket.value.empty() || Now() >= ticket.expires_at) {
    ticket.value = RandomString(86, kTokenAlphabet);
    ticket.expires_at = Now() + absl::Seconds(settings_.ticket_ttl_s);
  }
  return ticket;
}

int64_t Emulator::SecondsLeft(absl::Time expires_at) const {
  // Rounded down so a client never believes in a longer life than the real one.
  return std::max<int64_t>(0, absl::ToInt64Seconds(expires_at - Now()));
}

std::string Emulator::NewCode(Platform platform, const std::string& app, const std::string& user,
                              const std::string& session_key) {
  std::string value = RandomString(32, kAlnum);
  LoginCode code;
  code.platform = platform;
  code.app = app;
  code.user = user;
  code.session_key = session_key;
  code.expires_at = Now() + absl::Seconds(settings_.code_ttl_s);
  login_codes_[value] = std::move(code);
  return value;
}

Emulator::WeComApp* Emulator::FindWeComApp(absl::string_view corp_id, int64_t agent_id) {
  auto corp = corps_.find(std::string(corp_id));
  if (corp == corps_.end()) return nullptr;
  for (WeComApp& app : corp->second.apps) {
    if (app.agent_id == agent_id) return &app;
  }
  return nullptr;
}

absl::StatusOr<std::string> Emulator::SessionKeyOf(const test::JsonDoc& body) {
  absl::StatusOr<std::string> override_key = OptionalString(body, "session_key");
  if (!override_key.ok()) return override_key.status();
  if (!override_key->empty()) return *override_key;
  absl::StatusOr<std::string> user = RequiredString(body, "user");
  if (!user.ok()) return user.status();
  absl::StatusOr<std::string> app_id = OptionalString(body, "app_id");
  absl::StatusOr<std::string> corp_id = OptionalString(body, "corp_id");
  if (!app_id.ok()) return app_id.status();
  if (!corp_id.ok()) return corp_id.status();
  if (!app_id->empty()) {
    auto app = wechat_apps_.find(*app_id);
    if (app == wechat_apps_.end()) return absl::NotFoundError("unknown app_id");
    auto found = app->second.users.find(*user);
    if (found == app->second.users.end() || found->second.session_key.empty()) {
      return absl::NotFoundError("that user never logged in to this app");
    }
    return found->second.session_key;
  }
  if (!corp_id->empty()) {
    auto corp = corps_.find(*corp_id);
    if (corp == corps_.end()) return absl::NotFoundError("unknown corp_id");
    auto found = corp->second.session_keys.find(*user);
    if (found == corp->second.session_keys.end()) {
      return absl::NotFoundError("that member never logged in to this corp");
    }
    return found->second;
  }
  return absl::InvalidArgumentError("app_id or corp_id is required");
}

}  // namespace wxgate::emulator
