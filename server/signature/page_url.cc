#include "server/signature/page_url.h"

#include <arpa/inet.h>

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"

namespace wxgate::signature {
namespace {

constexpr size_t kMaxHostLength = 253;
constexpr size_t kMaxLabelLength = 63;

absl::Status BadUrl(absl::string_view why) {
  return MakeError(absl::StatusCode::kInvalidArgument, reason::kInvalidUrl,
                   absl::StrCat("url ", why), {{"field", "url"}});
}

bool IsHostChar(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_'; }

// inet_pton wants a NUL-terminated string.
bool ParsesAs(int family, absl::string_view text) {
  const std::string copy(text);
  unsigned char address[16];
  return inet_pton(family, copy.c_str(), address) == 1;
}

// A registered name or a dotted-quad IPv4 address, as the URL standard leaves
// it in location.href.
bool ValidHostName(absl::string_view host) {
  if (host.empty() || host.size() > kMaxHostLength) return false;
  absl::string_view last_label;
  for (absl::string_view label : absl::StrSplit(host, '.')) {
    if (label.empty() || label.size() > kMaxLabelLength) return false;
    for (char c : label) {
      if (!IsHostChar(c)) return false;
    }
    last_label = label;
  }
  // Browsers read a host whose last label is numeric as an IPv4 address and
  // rewrite odd forms ("0x7f.1", "1.2.3") to dotted quads in location.href;
  // no top-level domain starts with a digit. Only canonical dotted quads pass.
  if (absl::ascii_isdigit(last_label.front())) return ParsesAs(AF_INET, host);
  return true;
}

bool ValidPort(absl::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  uint32_t value = 0;
  for (char c : port) {
    if (!absl::ascii_isdigit(c)) return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value <= 65535;
}

}  // namespace

absl::StatusOr<PageUrl> NormalizePageUrl(absl::string_view url) {
  if (url.empty()) return BadUrl("is empty");
  if (url.size() > kMaxPageUrlLength) return BadUrl("is over 4 KiB");
  for (char c : url) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte <= 0x20 || byte == 0x7f) return BadUrl("contains whitespace or a control character");
    if (byte >= 0x80) {
      return BadUrl("contains a non-ASCII byte; pass location.href, which is percent-encoded");
    }
  }

  const absl::string_view to_sign = url.substr(0, url.find('#'));
  // The scheme is case-insensitive; the bytes signed have it lowercased.
  const size_t scheme_length = absl::StartsWithIgnoreCase(to_sign, "http://")    ? 7
                               : absl::StartsWithIgnoreCase(to_sign, "https://") ? 8
                                                                                 : 0;
  if (scheme_length == 0) return BadUrl("is not an absolute http:// or https:// URL");
  const absl::string_view rest = to_sign.substr(scheme_length);

  // The authority ends at the path or the query. A '\' (which browsers read
  // as '/') is left inside and rejected as a host character below.
  const absl::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.empty()) return BadUrl("has no host");
  if (absl::StrContains(authority, '@')) return BadUrl("has userinfo, which is not signed");

  absl::string_view host;
  absl::string_view after_host;  // "" or ":port"
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos || !ParsesAs(AF_INET6, authority.substr(1, close - 1))) {
      return BadUrl("has an invalid IPv6 address");
    }
    host = authority.substr(0, close + 1);
    after_host = authority.substr(close + 1);
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    after_host = colon == absl::string_view::npos ? "" : authority.substr(colon);
    if (host.empty()) return BadUrl("has no host");
    if (!ValidHostName(host)) return BadUrl("has an invalid host");
  }
  if (!after_host.empty() && (after_host.front() != ':' || !ValidPort(after_host.substr(1)))) {
    return BadUrl("has an invalid port");
  }

  PageUrl page;
  page.host = absl::AsciiStrToLower(host);
  // Browsers lowercase scheme and host in location.href, which is what WeChat
  // verifies against; everything after the host is kept byte for byte.
  page.url_to_sign = absl::StrCat(absl::AsciiStrToLower(to_sign.substr(0, scheme_length)),
                                  page.host, rest.substr(host.size()));
  return page;
}

bool HostMatchesPattern(absl::string_view host, absl::string_view pattern) {
  if (absl::ConsumePrefix(&pattern, "*")) {
    // pattern is now ".example.com": at least one label must precede it.
    if (pattern.size() < 2 || pattern.front() != '.' || absl::StrContains(pattern, '*')) {
      return false;
    }
    return host.size() > pattern.size() && absl::EndsWithIgnoreCase(host, pattern) &&
           host[host.size() - pattern.size() - 1] != '.';
  }
  return !absl::StrContains(pattern, '*') && absl::EqualsIgnoreCase(host, pattern);
}

absl::Status HostNotAllowedError(absl::string_view host) {
  return MakeError(absl::StatusCode::kPermissionDenied, reason::kUrlHostNotAllowed,
                   absl::StrCat("url host ", host, " is not in the app's allowed_page_hosts"),
                   {{"host", host}});
}

}  // namespace wxgate::signature
