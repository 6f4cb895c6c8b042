// The WeCom endpoints (qyapi.weixin.qq.com), with the parameters, answers
// and error codes of /work/shared/reference/wechat-api.md sections 1.6-1.12.
#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/emulator/emulator.h"
#include "tests/support/json.h"

namespace wxgate::emulator {
namespace {

constexpr Platform kWeCom = Platform::kWeCom;
constexpr absl::string_view kCursorPrefix = "emu-cursor-";

test::JsonWriter OkObject() {
  test::JsonWriter json;
  json.BeginObject().Field("errcode", 0).Field("errmsg", "ok");
  return json;
}

}  // namespace

Reply Emulator::WeComToken(const Request& request) {
  if (!request.HasParam("corpid")) return UpstreamError(kWeCom, 41002, "corpid missing");
  if (!request.HasParam("corpsecret")) return UpstreamError(kWeCom, 41004, "corpsecret missing");
  absl::MutexLock lock(&mu_);
  const std::string corp_id = request.Param("corpid");
  auto corp = corps_.find(corp_id);
  if (corp == corps_.end()) return UpstreamError(kWeCom, 40013, "invalid corpid");
  const std::string secret = request.Param("corpsecret");
  auto app = std::find_if(corp->second.apps.begin(), corp->second.apps.end(),
                          [&](const WeComApp& a) { return a.secret == secret; });
  if (app == corp->second.apps.end()) return UpstreamError(kWeCom, 40001, "invalid secret");
  // Unlike WeChat, WeCom hands back the same token while it is valid.
  if (!TokenUsable(app->current_token)) {
    app->current_token = IssueToken(kWeCom, corp_id, app->agent_id, secret);
    app->tokens.push_back(app->current_token);
  }
  test::JsonWriter json = OkObject();
  json.Field("access_token", app->current_token)
      .Field("expires_in", SecondsLeft(tokens_[app->current_token].expires_at))
      .EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::WeComJsapiTicket(const Request& request) {
  absl::MutexLock lock(&mu_);
  Reply error;
  absl::StatusOr<TokenOwner> owner = CheckToken(request, kWeCom, &error);
  if (!owner.ok()) return error;
  const Ticket& ticket = FreshTicket(corps_[owner->app].jsapi_ticket);
  test::JsonWriter json = OkObject();
  json.Field("ticket", ticket.value)
      .Field("expires_in", SecondsLeft(ticket.expires_at))
      .EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::WeComAgentTicket(const Request& request) {
  absl::MutexLock lock(&mu_);
  Reply error;
  absl::StatusOr<TokenOwner> owner = CheckToken(request, kWeCom, &error);
  if (!owner.ok()) return error;
  if (request.Param("type") != "agent_config") {
    return UpstreamError(kWeCom, 40058, "invalid parameter: type");
  }
  WeComApp* app = owner->agent_id == 0 ? nullptr : FindWeComApp(owner->app, owner->agent_id);
  if (app == nullptr) return UpstreamError(kWeCom, 40056, "invalid agentid");
  // Per agent, and never the corp's ticket: signing wx.agentConfig with the
  // corp ticket must fail.
  const Ticket& ticket = FreshTicket(app->agent_ticket);
  test::JsonWriter json = OkObject();
  json.Field("ticket", ticket.value)
      .Field("expires_in", SecondsLeft(ticket.expires_at))
      .EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::WeComCode2Session(const Request& request) {
  absl::MutexLock lock(&mu_);
  Reply error;
  absl::StatusOr<TokenOwner> owner = CheckToken(request, kWeCom, &error);
  if (!owner.ok()) return error;
  if (request.Param("js_code").empty()) return UpstreamError(kWeCom, 41008, "missing code");
  if (request.Param("grant_type") != "authorization_code") {
    return UpstreamError(kWeCom, 40002, "invalid grant_type");
  }
  auto code = login_codes_.find(request.Param("js_code"));
  if (code == login_codes_.end() || code->second.platform != kWeCom ||
      code->second.app != owner->app || code->second.used || Now() >= code->second.expires_at) {
    return UpstreamError(kWeCom, 40029, "invalid code");
  }
  code->second.used = true;
  test::JsonWriter json;
  json.BeginObject()
      .Field("corpid", owner->app)
      .Field("userid", code->second.user)
      .Field("session_key", code->second.session_key)
      .Field("errcode", 0)
      .Field("errmsg", "ok")
      .EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::WeComExternalContact(const Request& request) {
  absl::MutexLock lock(&mu_);
  Reply error;
  absl::StatusOr<TokenOwner> owner = CheckToken(request, kWeCom, &error);
  if (!owner.ok()) return error;
  WeComCorp& corp = corps_[owner->app];
  auto contact = corp.contacts.find(request.Param("external_userid"));
  if (contact == corp.contacts.end()) {
    return UpstreamError(kWeCom, 40096, "invalid external userid");
  }
  const std::vector<std::string>& follow = contact->second.follow_users_json;
  if (follow.empty()) return UpstreamError(kWeCom, 84061, "not external contact");
  size_t offset = 0;
  if (const std::string cursor = request.Param("cursor"); !cursor.empty()) {
    if (!absl::StartsWith(cursor, kCursorPrefix) ||
        !absl::SimpleAtoi(absl::string_view(cursor).substr(kCursorPrefix.size()), &offset) ||
        offset >= follow.size()) {
      return UpstreamError(kWeCom, 40058, "invalid parameter: cursor");
    }
  }
  const size_t page = static_cast<size_t>(std::max<int64_t>(1, settings_.follow_user_page_size));
  const size_t end = std::min(follow.size(), offset + page);
  test::JsonWriter json = OkObject();
  json.Key("external_contact").Raw(contact->second.contact_json);
  json.Key("follow_user").BeginArray();
  for (size_t i = offset; i < end; ++i) json.Raw(follow[i]);
  json.EndArray();
  json.Field("next_cursor", end < follow.size() ? absl::StrCat(kCursorPrefix, end) : "");
  json.EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::WeComKfCustomers(const Request& request) {
  absl::MutexLock lock(&mu_);
  Reply error;
  absl::StatusOr<TokenOwner> owner = CheckToken(request, kWeCom, &error);
  if (!owner.ok()) return error;
  absl::StatusOr<test::JsonDoc> body = ParseObject(request.body);
  if (!body.ok()) return UpstreamError(kWeCom, 47001, "data format error");
  absl::StatusOr<simdjson::dom::element> list = body->Get("/external_userid_list");
  simdjson::dom::array ids;
  if (!list.ok() || list->get_array().get(ids) != simdjson::SUCCESS || ids.size() == 0 ||
      ids.size() > 100) {
    return UpstreamError(kWeCom, 40058, "invalid parameter: external_userid_list");
  }
  absl::StatusOr<int64_t> need_context = OptionalInt(*body, "need_enter_session_context", 0);
  if (!need_context.ok()) return UpstreamError(kWeCom, 47001, "data format error");
  const WeComCorp& corp = corps_[owner->app];
  test::JsonWriter customers;
  test::JsonWriter invalid;
  customers.BeginArray();
  invalid.BeginArray();
  for (simdjson::dom::element id_element : ids) {
    std::string_view id;
    if (id_element.get_string().get(id) != simdjson::SUCCESS) {
      return UpstreamError(kWeCom, 47001, "data format error");
    }
    auto customer = corp.kf_customers.find(std::string(id));
    if (customer == corp.kf_customers.end()) {
      invalid.String(absl::string_view(id.data(), id.size()));
      continue;
    }
    std::string entry = customer->second.customer_json;
    if (*need_context == 1) {
      entry.pop_back();  // the closing brace
      absl::StrAppend(&entry, ",\"enter_session_context\":", customer->second.context_json, "}");
    }
    customers.Raw(entry);
  }
  customers.EndArray();
  invalid.EndArray();
  test::JsonWriter json = OkObject();
  json.Key("customer_list").Raw(customers.text());
  json.Key("invalid_external_userid").Raw(invalid.text());
  json.EndObject();
  return JsonReply(json.Take());
}

}  // namespace wxgate::emulator
