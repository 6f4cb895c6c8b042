#include "server/wechat/request.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace wxgate::wechat {
namespace {

std::string Url(absl::string_view base_url, absl::string_view endpoint, const QueryParams& params) {
  std::string url = absl::StrCat(base_url, "/", endpoint);
  char separator = '?';
  for (const auto& [key, value] : params) {
    absl::StrAppend(&url, absl::string_view(&separator, 1), key, "=", PercentEncode(value));
    separator = '&';
  }
  return url;
}

}  // namespace

std::string PercentEncode(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

void AppendJsonString(std::string& out, absl::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : value) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      default:
        if (c < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

upstream::HttpRequest GetRequest(absl::string_view base_url, absl::string_view endpoint,
                                 const QueryParams& params, absl::Time deadline) {
  upstream::HttpRequest request;
  request.method = upstream::HttpRequest::Method::kGet;
  request.url = Url(base_url, endpoint, params);
  request.endpoint = std::string(endpoint);
  request.deadline = deadline;
  return request;
}

upstream::HttpRequest PostRequest(absl::string_view base_url, absl::string_view endpoint,
                                  const QueryParams& params, std::string json_body,
                                  absl::Time deadline) {
  upstream::HttpRequest request = GetRequest(base_url, endpoint, params, deadline);
  request.method = upstream::HttpRequest::Method::kPost;
  request.body = std::move(json_body);
  return request;
}

}  // namespace wxgate::wechat
