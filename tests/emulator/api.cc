#include "tests/emulator/api.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/emulator/crypto.h"
#include "tests/support/json.h"

namespace wxgate::emulator {

std::string Request::Param(absl::string_view name) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string() : it->second;
}

bool Request::HasParam(absl::string_view name) const {
  return params.find(std::string(name)) != params.end();
}

Reply UpstreamError(Platform platform, int64_t errcode, absl::string_view errmsg) {
  // Both platforms append a request id to errmsg; reproduce that so nobody
  // matches on the text.
  std::string message = platform == Platform::kWeChat
                            ? absl::StrCat(errmsg, " rid: ", RandomString(8, "0123456789abcdef"),
                                           "-", RandomString(8, "0123456789abcdef"))
                            : absl::StrCat(errmsg, ", hint: [", absl::ToUnixSeconds(absl::Now()),
                                           "_", RandomString(6, kAlnum),
                                           "], more info at "
                                           "https://open.work.weixin.qq.com/devtool/query?e=",
                                           errcode);
  test::JsonWriter json;
  json.BeginObject().Field("errcode", errcode).Field("errmsg", message).EndObject();
  Reply reply = JsonReply(json.Take());
  reply.errcode = errcode;
  return reply;
}

Reply BadRequest(absl::string_view message) {
  test::JsonWriter json;
  json.BeginObject().Field("error", message).EndObject();
  Reply reply = JsonReply(json.Take());
  reply.http_status = 400;
  return reply;
}

Reply BadRequest(const absl::Status& status) { return BadRequest(status.message()); }

Reply JsonReply(std::string body) {
  Reply reply;
  reply.body = std::move(body);
  return reply;
}

}  // namespace wxgate::emulator
