// The control API (/_emu/...): registering apps, logging users in, minting
// codes and encrypted data, moving time, revoking tokens. See README.md.
#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/emulator/control_util.h"
#include "tests/emulator/crypto.h"
#include "tests/emulator/emulator.h"
#include "tests/support/json.h"

namespace wxgate::emulator {
namespace {

std::string NewSessionKey() { return Base64Encode(RandomBytes(16)); }

}  // namespace

Reply Emulator::AddApp(const Request& request) {
  EMU_ASSIGN_OR_400(body, ParseObject(request.body));
  EMU_ASSIGN_OR_400(kind, RequiredString(body, "kind"));
  EMU_ASSIGN_OR_400(secret, RequiredString(body, "secret"));
  EMU_ASSIGN_OR_400(open_platform, OptionalString(body, "open_platform"));
  static constexpr std::pair<absl::string_view, AppKind> kWeChatKinds[] = {
      {"mini_program", AppKind::kMiniProgram},
      {"official_account", AppKind::kOfficialAccount},
      {"website_app", AppKind::kWebsiteApp},
      {"mobile_app", AppKind::kMobileApp}};
  absl::Status status;
  auto wechat = std::find_if(std::begin(kWeChatKinds), std::end(kWeChatKinds),
                             [&](const auto& entry) { return entry.first == kind; });
  if (wechat != std::end(kWeChatKinds)) {
    EMU_ASSIGN_OR_400(app_id, RequiredString(body, "app_id"));
    status = RegisterWeChatApp(wechat->second, app_id, secret, open_platform);
  } else if (kind == "wecom_app") {
    // A corp's unionids come with each contact (person + open_platform).
    if (!open_platform.empty()) return BadRequest("open_platform is for WeChat apps");
    EMU_ASSIGN_OR_400(corp_id, RequiredString(body, "corp_id"));
    EMU_ASSIGN_OR_400(agent_id, OptionalInt(body, "agent_id", 0));
    status = RegisterWeComApp(corp_id, agent_id, secret);
  } else {
    return BadRequest(
        "kind must be mini_program, official_account, website_app, mobile_app or wecom_app");
  }
  if (!status.ok()) return BadRequest(status);
  return JsonReply(R"({"ok":true})");
}

Reply Emulator::Login(const Request& request) {
  EMU_ASSIGN_OR_400(body, ParseObject(request.body));
  EMU_ASSIGN_OR_400(app_id, RequiredString(body, "app_id"));
  EMU_ASSIGN_OR_400(keep, OptionalBool(body, "keep_session_key", false));
  // A given session_key (e.g. the official sample's) replaces the random one.
  EMU_ASSIGN_OR_400(given_key, OptionalString(body, "session_key"));
  if (!given_key.empty()) {
    absl::StatusOr<std::string> decoded = Base64Decode(given_key);
    if (!decoded.ok() || decoded->size() != 16) {
      return BadRequest("session_key must be base64 of 16 bytes");
    }
  }
  absl::MutexLock lock(&mu_);
  auto app = wechat_apps_.find(app_id);
  if (app == wechat_apps_.end() || app->second.kind != AppKind::kMiniProgram) {
    return BadRequest("app_id is not a registered mini program");
  }
  EMU_ASSIGN_OR_400(named, NamedUserOf(body, app_id, app->second.open_platform));
  if (named.openid.empty()) named.openid = absl::StrCat("o", RandomString(27, kTokenAlphabet));
  WeChatUser& user = RememberUser(app->second, named);
  // wx.login hands the user a new session key, which replaces the old one.
  if (!given_key.empty()) {
    user.session_key = given_key;
  } else if (!keep || user.session_key.empty()) {
    user.session_key = NewSessionKey();
  }
  const std::string code = NewCode(Platform::kWeChat, app_id, named.openid, user.session_key);
  test::JsonWriter json;
  json.BeginObject()
      .Field("code", code)
      .Field("openid", named.openid)
      .Field("unionid", user.unionid)
      .Field("session_key", user.session_key)
      .EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::WeComLogin(const Request& request) {
  EMU_ASSIGN_OR_400(body, ParseObject(request.body));
  EMU_ASSIGN_OR_400(corp_id, RequiredString(body, "corp_id"));
  EMU_ASSIGN_OR_400(user_id, RequiredString(body, "user_id"));
  EMU_ASSIGN_OR_400(keep, OptionalBool(body, "keep_session_key", false));
  absl::MutexLock lock(&mu_);
  auto corp = corps_.find(corp_id);
  if (corp == corps_.end()) return BadRequest("corp_id is not registered");
  std::string& session_key = corp->second.session_keys[user_id];
  if (!keep || session_key.empty()) session_key = NewSessionKey();
  const std::string code = NewCode(Platform::kWeCom, corp_id, user_id, session_key);
  test::JsonWriter json;
  json.BeginObject()
      .Field("code", code)
      .Field("user_id", user_id)
      .Field("session_key", session_key)
      .EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::Encrypt(const Request& request) {
  EMU_ASSIGN_OR_400(body, ParseObject(request.body));
  EMU_ASSIGN_OR_400(plaintext_override, OptionalString(body, "plaintext"));
  EMU_ASSIGN_OR_400(omit_watermark, OptionalBool(body, "omit_watermark", false));
  EMU_ASSIGN_OR_400(app_id, OptionalString(body, "app_id"));
  EMU_ASSIGN_OR_400(corp_id, OptionalString(body, "corp_id"));
  EMU_ASSIGN_OR_400(watermark_appid,
                    OptionalString(body, "watermark_appid", app_id.empty() ? corp_id : app_id));
  std::string session_key;
  int64_t now_s;
  {
    absl::MutexLock lock(&mu_);
    EMU_ASSIGN_OR_400(key, SessionKeyOf(body));
    session_key = std::move(key);
    now_s = absl::ToUnixSeconds(Now());
  }
  EMU_ASSIGN_OR_400(timestamp, OptionalInt(body, "watermark_timestamp", now_s));
  std::string plaintext = plaintext_override;
  if (!body.Has("/plaintext")) {
    absl::StatusOr<simdjson::dom::element> data = body.Get("/data");
    simdjson::dom::object object;
    if (!data.ok() || data->get_object().get(object) != simdjson::SUCCESS) {
      return BadRequest("data must be a JSON object (or give plaintext)");
    }
    // The data's fields in order, then the watermark WeChat adds.
    test::JsonWriter json;
    json.BeginObject();
    for (simdjson::dom::key_value_pair field : object) {
      if (field.key == "watermark" && !omit_watermark) continue;
      json.Key(absl::string_view(field.key.data(), field.key.size()))
          .Raw(simdjson::minify(field.value));
    }
    if (!omit_watermark) {
      json.Key("watermark")
          .BeginObject()
          .Field("timestamp", timestamp)
          .Field("appid", watermark_appid)
          .EndObject();
    }
    plaintext = json.EndObject().Take();
  }
  EMU_ASSIGN_OR_400(key_bytes, Base64Decode(session_key));
  const std::string iv = RandomBytes(16);
  EMU_ASSIGN_OR_400(ciphertext, Aes128CbcEncrypt(key_bytes, iv, plaintext));
  test::JsonWriter json;
  json.BeginObject()
      .Field("encrypted_data", Base64Encode(ciphertext))
      .Field("iv", Base64Encode(iv))
      .Field("json", plaintext)
      .EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::SignRaw(const Request& request) {
  EMU_ASSIGN_OR_400(body, ParseObject(request.body));
  EMU_ASSIGN_OR_400(raw_data, RequiredString(body, "raw_data"));
  std::string session_key;
  {
    absl::MutexLock lock(&mu_);
    EMU_ASSIGN_OR_400(key, SessionKeyOf(body));
    session_key = std::move(key);
  }
  test::JsonWriter json;
  json.BeginObject().Field("signature", Sha1Hex(raw_data + session_key)).EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::PhoneCode(const Request& request) {
  EMU_ASSIGN_OR_400(body, ParseObject(request.body));
  PhoneCodeEntry entry;
  EMU_ASSIGN_OR_400(app_id, RequiredString(body, "app_id"));
  EMU_ASSIGN_OR_400(phone_number, RequiredString(body, "phone_number"));
  EMU_ASSIGN_OR_400(pure, OptionalString(body, "pure_phone_number", phone_number));
  EMU_ASSIGN_OR_400(openid, OptionalString(body, "openid"));
  EMU_ASSIGN_OR_400(as_string, OptionalBool(body, "country_code_as_string", false));
  // country_code may come as "86" or 86.
  std::string country_code = "86";
  if (absl::StatusOr<int64_t> number = body.GetInt("/country_code"); number.ok()) {
    country_code = absl::StrCat(*number);
  } else {
    EMU_ASSIGN_OR_400(text, OptionalString(body, "country_code", "86"));
    country_code = std::move(text);
  }
  entry.app_id = app_id;
  entry.openid = openid;
  entry.phone_number = phone_number;
  entry.pure_phone_number = pure;
  entry.country_code = country_code;
  entry.country_code_as_string = as_string;
  absl::MutexLock lock(&mu_);
  auto app = wechat_apps_.find(app_id);
  if (app == wechat_apps_.end() || app->second.kind != AppKind::kMiniProgram) {
    return BadRequest("app_id is not a registered mini program");
  }
  entry.created = Now();
  entry.expires_at = entry.created + absl::Seconds(settings_.code_ttl_s);
  const std::string code = RandomString(64, "0123456789abcdef");
  phone_codes_[code] = std::move(entry);
  test::JsonWriter json;
  json.BeginObject().Field("code", code).EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::UpdateSettings(const Request& request) {
  EMU_ASSIGN_OR_400(body, ParseObject(request.body));
  absl::MutexLock lock(&mu_);
  Settings next = settings_;
  struct Field {
    const char* name;
    int64_t* value;
    int64_t minimum;
  };
  const Field fields[] = {{"token_ttl_s", &next.token_ttl_s, 1},
                          {"ticket_ttl_s", &next.ticket_ttl_s, 1},
                          {"token_overlap_s", &next.token_overlap_s, 0},
                          {"code_ttl_s", &next.code_ttl_s, 1},
                          {"follow_user_page_size", &next.follow_user_page_size, 1}};
  for (const Field& field : fields) {
    EMU_ASSIGN_OR_400(value, OptionalInt(body, field.name, *field.value));
    if (value < field.minimum) {
      return BadRequest(absl::StrCat(field.name, " must be at least ", field.minimum));
    }
    *field.value = value;
  }
  settings_ = next;
  test::JsonWriter json;
  json.BeginObject();
  for (const Field& field : fields) json.Field(field.name, *field.value);
  json.EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::Revoke(const Request& request) {
  EMU_ASSIGN_OR_400(body, ParseObject(request.body));
  EMU_ASSIGN_OR_400(app_id, OptionalString(body, "app_id"));
  EMU_ASSIGN_OR_400(corp_id, OptionalString(body, "corp_id"));
  EMU_ASSIGN_OR_400(agent_id, OptionalInt(body, "agent_id", 0));
  if (app_id.empty() && corp_id.empty()) return BadRequest("app_id or corp_id is required");
  absl::MutexLock lock(&mu_);
  int revoked = 0;
  for (auto& [token, issued] : tokens_) {
    const bool match = !app_id.empty()
                           ? issued.platform == Platform::kWeChat && issued.app == app_id
                           : issued.platform == Platform::kWeCom && issued.app == corp_id &&
                                 issued.agent_id == agent_id;
    if (match && !issued.revoked) {
      issued.revoked = true;
      ++revoked;
    }
  }
  test::JsonWriter json;
  json.BeginObject().Field("revoked", revoked).EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::Expire(const Request& request) {
  EMU_ASSIGN_OR_400(body, ParseObject(request.body));
  EMU_ASSIGN_OR_400(app_id, OptionalString(body, "app_id"));
  EMU_ASSIGN_OR_400(corp_id, OptionalString(body, "corp_id"));
  EMU_ASSIGN_OR_400(agent_id, OptionalInt(body, "agent_id", 0));
  EMU_ASSIGN_OR_400(what, OptionalString(body, "what", "token"));
  if (what != "token" && what != "ticket") return BadRequest("what must be token or ticket");
  if (app_id.empty() && corp_id.empty()) return BadRequest("app_id or corp_id is required");
  absl::MutexLock lock(&mu_);
  const absl::Time now = Now();
  if (!app_id.empty()) {
    auto app = wechat_apps_.find(app_id);
    if (app == wechat_apps_.end()) return BadRequest("unknown app_id");
    if (what == "ticket") {
      app->second.jsapi_ticket.expires_at = now;
    } else {
      for (const std::vector<std::string>* tokens :
           {&app->second.tokens, &app->second.stable.tokens}) {
        for (const std::string& token : *tokens) tokens_[token].expires_at = now;
      }
    }
  } else {
    auto corp = corps_.find(corp_id);
    if (corp == corps_.end()) return BadRequest("unknown corp_id");
    WeComApp* app = FindWeComApp(corp_id, agent_id);
    if (what == "ticket") {
      corp->second.jsapi_ticket.expires_at = now;
      if (app != nullptr) app->agent_ticket.expires_at = now;
    } else {
      if (app == nullptr) return BadRequest("unknown agent_id");
      for (const std::string& token : app->tokens) tokens_[token].expires_at = now;
    }
  }
  return JsonReply(R"({"ok":true})");
}

Reply Emulator::AdvanceTime(const Request& request) {
  EMU_ASSIGN_OR_400(body, ParseObject(request.body));
  EMU_ASSIGN_OR_400(seconds, OptionalInt(body, "seconds", 0));
  if (seconds < 0) return BadRequest("time only moves forward");
  absl::MutexLock lock(&mu_);
  time_offset_ += absl::Seconds(seconds);
  test::JsonWriter json;
  json.BeginObject().Field("now", absl::ToUnixSeconds(Now())).EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::Current(const Request& request) {
  const std::string app_id = request.Param("app_id");
  const std::string corp_id = request.Param("corp_id");
  const std::string user = request.Param("user");
  int64_t agent_id = 0;
  if (request.HasParam("agent_id") && !absl::SimpleAtoi(request.Param("agent_id"), &agent_id)) {
    return BadRequest("agent_id must be an integer");
  }
  absl::MutexLock lock(&mu_);
  test::JsonWriter json;
  json.BeginObject();
  const std::vector<std::string>* tokens = nullptr;
  const std::string* current = nullptr;
  if (!app_id.empty()) {
    auto app = wechat_apps_.find(app_id);
    if (app == wechat_apps_.end()) return BadRequest("unknown app_id");
    tokens = &app->second.tokens;
    current = &app->second.current_token;
    const Ticket& ticket = app->second.jsapi_ticket;
    json.Field("ticket", Now() < ticket.expires_at ? ticket.value : "");
    const StableTokens& stable = app->second.stable;
    json.Field("stable_token", stable.current)
        .Field("stable_forced_today",
               stable.forced_day == ChinaDay(Now()) ? stable.forced_today : int64_t{0})
        .Field("stable_forced_total", stable.forced_total);
    if (!user.empty()) {
      auto found = app->second.users.find(user);
      json.Field("session_key", found == app->second.users.end() ? "" : found->second.session_key);
      json.Field("unionid", found == app->second.users.end() ? "" : found->second.unionid);
    }
  } else if (!corp_id.empty()) {
    auto corp = corps_.find(corp_id);
    if (corp == corps_.end()) return BadRequest("unknown corp_id");
    const Ticket& corp_ticket = corp->second.jsapi_ticket;
    json.Field("jsapi_ticket", Now() < corp_ticket.expires_at ? corp_ticket.value : "");
    if (WeComApp* app = FindWeComApp(corp_id, agent_id); app != nullptr) {
      tokens = &app->tokens;
      current = &app->current_token;
      json.Field("agent_ticket",
                 Now() < app->agent_ticket.expires_at ? app->agent_ticket.value : "");
    }
    if (!user.empty()) {
      auto found = corp->second.session_keys.find(user);
      json.Field("session_key", found == corp->second.session_keys.end() ? "" : found->second);
    }
  } else {
    return BadRequest("app_id or corp_id is required");
  }
  json.Field("access_token", current != nullptr && TokenUsable(*current) ? *current : "");
  json.Key("tokens").BeginArray();
  if (tokens != nullptr) {
    for (const std::string& token : *tokens) json.String(token);
  }
  json.EndArray();
  json.Field("now", absl::ToUnixSeconds(Now()));
  json.EndObject();
  return JsonReply(json.Take());
}

}  // namespace wxgate::emulator
