// Control calls that load WeCom customer data: external contacts (for
// cgi-bin/externalcontact/get) and WeChat-KF customers (for
// cgi-bin/kf/customer/batchget).
#include <utility>

#include "absl/strings/str_cat.h"
#include "tests/emulator/emulator.h"
#include "tests/support/json.h"

namespace wxgate::emulator {
namespace {

// One follow_user entry as WeCom renders it; `now_s` is the default createtime.
absl::StatusOr<std::string> RenderFollowUser(simdjson::dom::element input, int64_t now_s) {
  absl::StatusOr<test::JsonDoc> doc = test::JsonDoc::Parse(simdjson::minify(input));
  if (!doc.ok()) return doc.status();
  absl::StatusOr<std::string> userid = RequiredString(*doc, "userid");
  absl::StatusOr<std::string> remark = OptionalString(*doc, "remark");
  absl::StatusOr<std::string> description = OptionalString(*doc, "description");
  absl::StatusOr<int64_t> createtime = OptionalInt(*doc, "createtime", now_s);
  absl::StatusOr<int64_t> add_way = OptionalInt(*doc, "add_way", 0);
  absl::StatusOr<std::string> state = OptionalString(*doc, "state");
  for (const absl::Status& status : {userid.status(), remark.status(), description.status(),
                                     createtime.status(), add_way.status(), state.status()}) {
    if (!status.ok())
      return absl::InvalidArgumentError(absl::StrCat("follow_users: ", status.message()));
  }
  absl::StatusOr<std::string> oper_userid = OptionalString(*doc, "oper_userid", *userid);
  if (!oper_userid.ok()) return oper_userid.status();
  test::JsonWriter json;
  json.BeginObject()
      .Field("userid", *userid)
      .Field("remark", *remark)
      .Field("description", *description)
      .Field("createtime", *createtime);
  json.Key("tags").BeginArray();
  if (absl::StatusOr<simdjson::dom::element> tags = doc->Get("/tags"); tags.ok()) {
    simdjson::dom::array array;
    if (tags->get_array().get(array) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("follow_users: tags must be an array");
    }
    int index = 0;
    for (simdjson::dom::element tag : array) {
      std::string_view name;
      if (tag.get_string().get(name) == simdjson::SUCCESS) {
        // A bare name becomes a corp tag in a default group.
        json.BeginObject()
            .Field("group_name", "default")
            .Field("tag_name", absl::string_view(name.data(), name.size()))
            .Field("tag_id", absl::StrCat("et", *userid, "_", index))
            .Field("type", 1)
            .EndObject();
      } else if (tag.is_object()) {
        json.Raw(simdjson::minify(tag));
      } else {
        return absl::InvalidArgumentError("follow_users: a tag is a string or an object");
      }
      ++index;
    }
  }
  json.EndArray();
  json.Field("remark_corp_name", "").Key("remark_mobiles").BeginArray().EndArray();
  json.Field("add_way", *add_way).Field("oper_userid", *oper_userid);
  if (!state->empty()) json.Field("state", *state);
  json.EndObject();
  return json.Take();
}

}  // namespace

Reply Emulator::AddExternalContact(const Request& request) {
  absl::StatusOr<test::JsonDoc> body = ParseObject(request.body);
  if (!body.ok()) return BadRequest(body.status());
  absl::StatusOr<std::string> corp_id = RequiredString(*body, "corp_id");
  absl::StatusOr<std::string> external_userid = RequiredString(*body, "external_userid");
  absl::StatusOr<std::string> name = OptionalString(*body, "name");
  absl::StatusOr<int64_t> type = OptionalInt(*body, "type", 1);
  absl::StatusOr<int64_t> gender = OptionalInt(*body, "gender", 0);
  absl::StatusOr<std::string> unionid = ContactUnionidOf(*body);
  absl::StatusOr<std::string> avatar = OptionalString(*body, "avatar");
  absl::StatusOr<std::string> corp_name = OptionalString(*body, "corp_name");
  absl::StatusOr<std::string> position = OptionalString(*body, "position");
  for (const absl::Status& status :
       {corp_id.status(), external_userid.status(), name.status(), type.status(), gender.status(),
        unionid.status(), avatar.status(), corp_name.status(), position.status()}) {
    if (!status.ok()) return BadRequest(status);
  }
  if (*type != 1 && *type != 2) return BadRequest("type is 1 (WeChat user) or 2 (WeCom user)");
  test::JsonWriter contact;
  contact.BeginObject()
      .Field("external_userid", *external_userid)
      .Field("name", *name)
      .Field("avatar", *avatar)
      .Field("type", *type)
      .Field("gender", *gender);
  // WeCom only reveals a unionid for WeChat users (type 1).
  const std::string shown_unionid = *type == 1 ? *unionid : "";
  if (!shown_unionid.empty()) contact.Field("unionid", shown_unionid);
  if (*type == 2) {
    contact.Field("position", *position)
        .Field("corp_name", *corp_name)
        .Field("corp_full_name", *corp_name);
  }
  contact.EndObject();

  ExternalContact entry;
  entry.contact_json = contact.Take();
  int64_t now_s;
  {
    absl::MutexLock lock(&mu_);
    now_s = absl::ToUnixSeconds(Now());
  }
  if (absl::StatusOr<simdjson::dom::element> follow = body->Get("/follow_users"); follow.ok()) {
    simdjson::dom::array array;
    if (follow->get_array().get(array) != simdjson::SUCCESS) {
      return BadRequest("follow_users must be an array");
    }
    for (simdjson::dom::element user : array) {
      absl::StatusOr<std::string> rendered = RenderFollowUser(user, now_s);
      if (!rendered.ok()) return BadRequest(rendered.status());
      entry.follow_users_json.push_back(*std::move(rendered));
    }
  }
  absl::MutexLock lock(&mu_);
  auto corp = corps_.find(*corp_id);
  if (corp == corps_.end()) return BadRequest("corp_id is not registered");
  const size_t follow_users = entry.follow_users_json.size();
  corp->second.contacts[*external_userid] = std::move(entry);
  test::JsonWriter json;
  json.BeginObject()
      .Field("follow_users", static_cast<int64_t>(follow_users))
      .Field("unionid", shown_unionid)
      .EndObject();
  return JsonReply(json.Take());
}

Reply Emulator::AddKfCustomer(const Request& request) {
  absl::StatusOr<test::JsonDoc> body = ParseObject(request.body);
  if (!body.ok()) return BadRequest(body.status());
  absl::StatusOr<std::string> corp_id = RequiredString(*body, "corp_id");
  absl::StatusOr<std::string> external_userid = RequiredString(*body, "external_userid");
  absl::StatusOr<std::string> nickname = OptionalString(*body, "nickname");
  absl::StatusOr<int64_t> gender = OptionalInt(*body, "gender", 0);
  absl::StatusOr<std::string> unionid = ContactUnionidOf(*body);
  absl::StatusOr<std::string> avatar = OptionalString(*body, "avatar");
  absl::StatusOr<std::string> scene = OptionalString(*body, "scene");
  absl::StatusOr<std::string> scene_param = OptionalString(*body, "scene_param");
  for (const absl::Status& status :
       {corp_id.status(), external_userid.status(), nickname.status(), gender.status(),
        unionid.status(), avatar.status(), scene.status(), scene_param.status()}) {
    if (!status.ok()) return BadRequest(status);
  }
  test::JsonWriter customer;
  customer.BeginObject()
      .Field("external_userid", *external_userid)
      .Field("nickname", *nickname)
      .Field("avatar", *avatar)
      .Field("gender", *gender);
  if (!unionid->empty()) customer.Field("unionid", *unionid);
  customer.EndObject();
  test::JsonWriter context;
  context.BeginObject()
      .Field("scene", *scene)
      .Field("scene_param", *scene_param)
      .Key("wechat_channels")
      .BeginObject()
      .Field("nickname", "")
      .Field("scene", 0)
      .EndObject()
      .EndObject();
  absl::MutexLock lock(&mu_);
  auto corp = corps_.find(*corp_id);
  if (corp == corps_.end()) return BadRequest("corp_id is not registered");
  corp->second.kf_customers[*external_userid] = KfCustomer{customer.Take(), context.Take()};
  test::JsonWriter json;
  json.BeginObject().Field("ok", true).Field("unionid", *unionid).EndObject();
  return JsonReply(json.Take());
}

}  // namespace wxgate::emulator
