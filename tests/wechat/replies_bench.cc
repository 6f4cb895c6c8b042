// Parsing each upstream answer: the checks every body gets plus its typed
// parser. Run by scripts/bench, never by ctest.
#include <string>

#include "benchmark/benchmark.h"
#include "server/wechat/replies.h"
#include "server/wecom/replies.h"

namespace wxgate {
namespace {

using wechat::EndpointKind;
using wechat::UpstreamJson;

constexpr char kToken[] =
    R"({"access_token":"ACCESS_TOKEN_0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz","expires_in":7200})";
constexpr char kTicket[] =
    R"({"errcode":0,"errmsg":"ok","ticket":"bxLdikRXVbTPdHSM05e5u5sUoXNKd8-41ZO3MhKoyN5OfkWITDGgnr2fwJ0m9E8NYzWKVZvdVtaUgWvsdshFKA","expires_in":7200})";
constexpr char kSession[] =
    R"({"openid":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","unionid":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA","session_key":"tiihtNczf5v6AKRyjwEUhQ=="})";
constexpr char kPhone[] =
    R"({"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"+86 13800138000","purePhoneNumber":"13800138000","countryCode":86,"watermark":{"timestamp":1637744274,"appid":"wx4f4bc4dec97d474b"}}})";
constexpr char kContact[] = R"({"errcode":0,"errmsg":"ok",
  "external_contact":{"external_userid":"woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA","name":"Jack","avatar":"http://p.qlogo.cn/x/0","type":1,"gender":1,"unionid":"ozynqsulJFCZ2z1aYeS8h-nuasdAAA"},
  "follow_user":[{"userid":"rocky","remark":"r","description":"d","createtime":1525779812,"tags":[{"group_name":"g","tag_name":"t","tag_id":"et1","type":1}],"remark_corp_name":"c","remark_mobiles":["13800000001"],"oper_userid":"rocky","add_way":10,"state":"s"},
                 {"userid":"tom","remark":"r2","createtime":1525881637,"add_way":1,"oper_userid":"tom"}],
  "next_cursor":""})";
constexpr char kKf[] =
    R"({"errcode":0,"errmsg":"ok","customer_list":[{"external_userid":"wmxxxxxxxxxxxxxxxxxxxxxx","nickname":"张三","avatar":"http://xxxxx","gender":1,"unionid":"oxxxxxxxxxxxxxxxxxxxxx","enter_session_context":{"scene":"123","scene_param":"abc","wechat_channels":{"nickname":"x","scene":1}}}],"invalid_external_userid":["zhangsan"]})";

template <typename Parse>
void ParseLoop(benchmark::State& state, const char* body, EndpointKind kind, Parse parse) {
  const std::string text(body);
  for (auto _ : state) {
    absl::StatusOr<UpstreamJson> json = UpstreamJson::FromBody("bench", kind, text);
    auto parsed = parse(*json);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}

void BM_ParseToken(benchmark::State& state) {
  ParseLoop(state, kToken, EndpointKind::kCredential,
            [](const UpstreamJson& j) { return wechat::ParseCredential(j, "access_token"); });
}
BENCHMARK(BM_ParseToken);

void BM_ParseTicket(benchmark::State& state) {
  ParseLoop(state, kTicket, EndpointKind::kTokenCall,
            [](const UpstreamJson& j) { return wechat::ParseCredential(j, "ticket"); });
}
BENCHMARK(BM_ParseTicket);

void BM_ParseCode2Session(benchmark::State& state) {
  ParseLoop(state, kSession, EndpointKind::kNoToken, wechat::ParseWeChatSession);
}
BENCHMARK(BM_ParseCode2Session);

void BM_ParsePhoneNumber(benchmark::State& state) {
  ParseLoop(state, kPhone, EndpointKind::kTokenCall, wechat::ParsePhoneInfo);
}
BENCHMARK(BM_ParsePhoneNumber);

void BM_ParseExternalContact(benchmark::State& state) {
  ParseLoop(state, kContact, EndpointKind::kTokenCall, [](const UpstreamJson& j) {
    v1::GetExternalContactResponse out;
    return wecom::ParseExternalContactPage(j, out);
  });
}
BENCHMARK(BM_ParseExternalContact);

void BM_ParseKfCustomers(benchmark::State& state) {
  ParseLoop(state, kKf, EndpointKind::kTokenCall, wecom::ParseKfCustomers);
}
BENCHMARK(BM_ParseKfCustomers);

void BM_ParseErrcode(benchmark::State& state) {
  const std::string text = R"({"errcode":40029,"errmsg":"invalid code, rid: 6543-abcd"})";
  for (auto _ : state) {
    absl::StatusOr<UpstreamJson> json =
        UpstreamJson::FromBody("bench", EndpointKind::kNoToken, text);
    benchmark::DoNotOptimize(json);
  }
}
BENCHMARK(BM_ParseErrcode);

}  // namespace
}  // namespace wxgate

BENCHMARK_MAIN();
