#ifndef WXGATE_TESTS_EMULATOR_API_H_
#define WXGATE_TESTS_EMULATOR_API_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

// The emulator's view of one HTTP exchange, free of the HTTP library, so the
// WeChat/WeCom logic reads like the upstream documentation.
namespace wxgate::emulator {

struct Request {
  std::string method;    // "GET", "POST", "DELETE"
  std::string endpoint;  // the path without its leading '/': "cgi-bin/token"
  std::multimap<std::string, std::string> params;  // query parameters, decoded
  std::string body;

  // The first value of query parameter `name`, "" when absent.
  std::string Param(absl::string_view name) const;
  bool HasParam(absl::string_view name) const;
};

struct Reply {
  int http_status = 200;
  std::string body;
  std::string content_type = "application/json";
  // The errcode the body carries (0 on success): counted in /_emu/stats.
  int64_t errcode = 0;
};

enum class Platform { kWeChat, kWeCom };

// {"errcode":N,"errmsg":"<errmsg> rid: ..."} the way each platform words it:
// clients must go by errcode, never by the text.
Reply UpstreamError(Platform platform, int64_t errcode, absl::string_view errmsg);

// A control-API failure: HTTP 400 {"error":"..."}.
Reply BadRequest(absl::string_view message);
Reply BadRequest(const absl::Status& status);

// HTTP 200 with a JSON body.
Reply JsonReply(std::string body);

}  // namespace wxgate::emulator

#endif  // WXGATE_TESTS_EMULATOR_API_H_
