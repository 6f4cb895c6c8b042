#include "server/wecom/replies.h"

#include <utility>
#include <vector>

#include "server/wechat/replies.h"
#include "server/wechat/user_replies.h"

namespace wxgate::wecom {
namespace {

using wechat::JsonObject;
using wechat::Need;
using wechat::OptionalFields;

v1::ExternalContactType ToContactType(int64_t value) {
  switch (value) {
    case 1:
      return v1::EXTERNAL_CONTACT_TYPE_WECHAT;
    case 2:
      return v1::EXTERNAL_CONTACT_TYPE_WECOM;
    default:
      return v1::EXTERNAL_CONTACT_TYPE_UNSPECIFIED;
  }
}

absl::Status ReadFollowUser(const JsonObject& in, v1::FollowUser& out) {
  absl::Status status =
      OptionalFields(in)
          .Str("userid", [&](std::string v) { out.set_userid(std::move(v)); })
          .Str("remark", [&](std::string v) { out.set_remark(std::move(v)); })
          .Str("description", [&](std::string v) { out.set_description(std::move(v)); })
          .Int("createtime", [&](int64_t v) { out.set_createtime(v); })
          .Int("add_way", [&](int64_t v) { out.set_add_way(static_cast<int32_t>(v)); })
          .Str("state", [&](std::string v) { out.set_state(std::move(v)); })
          .Str("oper_userid", [&](std::string v) { out.set_oper_userid(std::move(v)); })
          .Str("remark_corp_name", [&](std::string v) { out.set_remark_corp_name(std::move(v)); })
          .status();
  if (!status.ok()) return status;
  absl::StatusOr<std::vector<std::string>> mobiles =
      in.StringArray("remark_mobiles", Need::kOptional);
  if (!mobiles.ok()) return mobiles.status();
  for (std::string& mobile : *mobiles) out.add_remark_mobiles(std::move(mobile));
  absl::StatusOr<std::vector<JsonObject>> tags = in.ObjectArray("tags", Need::kOptional);
  if (!tags.ok()) return tags.status();
  for (const JsonObject& tag_in : *tags) {
    v1::ExternalContactTag* tag = out.add_tags();
    absl::Status tag_status =
        OptionalFields(tag_in)
            .Str("group_name", [&](std::string v) { tag->set_group_name(std::move(v)); })
            .Str("tag_name", [&](std::string v) { tag->set_tag_name(std::move(v)); })
            .Str("tag_id", [&](std::string v) { tag->set_tag_id(std::move(v)); })
            .Int("type", [&](int64_t v) { tag->set_type(static_cast<int32_t>(v)); })
            .status();
    if (!tag_status.ok()) return tag_status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WeComSession> ParseWeComSession(const wechat::UpstreamJson& json) {
  const JsonObject& root = json.root();
  WeComSession session;
  absl::StatusOr<std::string> corp_id = root.String("corpid", Need::kRequired, 64);
  if (!corp_id.ok()) return corp_id.status();
  absl::StatusOr<std::string> user_id = root.String("userid", Need::kRequired, 128);
  if (!user_id.ok()) return user_id.status();
  if (corp_id->empty() || user_id->empty()) {
    return root.BadField(corp_id->empty() ? "corpid" : "userid", "is empty");
  }
  absl::StatusOr<std::string> key = root.String("session_key", Need::kRequired, 64);
  if (!key.ok()) return key.status();
  if (!wechat::IsWellFormedSessionKey(*key)) {
    return root.BadField("session_key", "is not base64 of 16 bytes");
  }
  session.corp_id = *std::move(corp_id);
  session.user_id = *std::move(user_id);
  session.session_key = *std::move(key);
  return session;
}

absl::StatusOr<std::string> ParseExternalContactPage(const wechat::UpstreamJson& json,
                                                     v1::GetExternalContactResponse& out) {
  const JsonObject& root = json.root();
  absl::StatusOr<JsonObject> contact = root.Object("external_contact", Need::kRequired);
  if (!contact.ok()) return contact.status();
  absl::Status status =
      OptionalFields(*contact)
          .Str("external_userid", [&](std::string v) { out.set_external_userid(std::move(v)); })
          .Str("unionid", [&](std::string v) { out.set_unionid(std::move(v)); })
          .Str("name", [&](std::string v) { out.set_name(std::move(v)); })
          .Int("type", [&](int64_t v) { out.set_type(ToContactType(v)); })
          .Int("gender", [&](int64_t v) { out.set_gender(wechat::GenderOf(v)); })
          .Str("corp_name", [&](std::string v) { out.set_corp_name(std::move(v)); })
          .Str("corp_full_name", [&](std::string v) { out.set_corp_full_name(std::move(v)); })
          .Str("position", [&](std::string v) { out.set_position(std::move(v)); })
          .Str("avatar", [&](std::string v) { out.set_avatar(std::move(v)); })
          .status();
  if (!status.ok()) return status;
  if (out.external_userid().empty()) {
    return contact->BadField("external_userid", "is missing or empty");
  }
  absl::StatusOr<std::vector<JsonObject>> follow = root.ObjectArray("follow_user", Need::kOptional);
  if (!follow.ok()) return follow.status();
  for (const JsonObject& user : *follow) {
    if (absl::Status s = ReadFollowUser(user, *out.add_follow_users()); !s.ok()) return s;
  }
  return root.String("next_cursor", Need::kOptional, 1024);
}

absl::StatusOr<v1::BatchGetKfCustomersResponse> ParseKfCustomers(const wechat::UpstreamJson& json) {
  const JsonObject& root = json.root();
  v1::BatchGetKfCustomersResponse out;
  absl::StatusOr<std::vector<JsonObject>> customers =
      root.ObjectArray("customer_list", Need::kOptional);
  if (!customers.ok()) return customers.status();
  for (const JsonObject& in : *customers) {
    v1::KfCustomer* customer = out.add_customers();
    absl::Status status =
        OptionalFields(in)
            .Str("external_userid",
                 [&](std::string v) { customer->set_external_userid(std::move(v)); })
            .Str("nickname", [&](std::string v) { customer->set_nickname(std::move(v)); })
            .Str("avatar", [&](std::string v) { customer->set_avatar(std::move(v)); })
            .Int("gender", [&](int64_t v) { customer->set_gender(wechat::GenderOf(v)); })
            .Str("unionid", [&](std::string v) { customer->set_unionid(std::move(v)); })
            .status();
    if (!status.ok()) return status;
    absl::StatusOr<JsonObject> context = in.Object("enter_session_context", Need::kOptional);
    if (!context.ok()) return context.status();
    absl::StatusOr<JsonObject> channels = context->Object("wechat_channels", Need::kOptional);
    if (!channels.ok()) return channels.status();
    v1::KfEnterSessionContext parsed;
    status = OptionalFields(*context)
                 .Str("scene", [&](std::string v) { parsed.set_scene(std::move(v)); })
                 .Str("scene_param", [&](std::string v) { parsed.set_scene_param(std::move(v)); })
                 .status();
    if (!status.ok()) return status;
    status = OptionalFields(*channels)
                 .Str("nickname",
                      [&](std::string v) { parsed.set_wechat_channels_nickname(std::move(v)); })
                 .Int("scene",
                      [&](int64_t v) { parsed.set_wechat_channels_scene(static_cast<int32_t>(v)); })
                 .status();
    if (!status.ok()) return status;
    if (parsed.ByteSizeLong() > 0) *customer->mutable_enter_session_context() = std::move(parsed);
  }
  absl::StatusOr<std::vector<std::string>> invalid =
      root.StringArray("invalid_external_userid", Need::kOptional);
  if (!invalid.ok()) return invalid.status();
  for (std::string& id : *invalid) out.add_invalid_external_userids(std::move(id));
  return out;
}

}  // namespace wxgate::wecom
