#ifndef WXGATE_SERVER_SIGNATURE_PAGE_URL_H_
#define WXGATE_SERVER_SIGNATURE_PAGE_URL_H_

#include <cstddef>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace wxgate::signature {

inline constexpr size_t kMaxPageUrlLength = 4096;

struct PageUrl {
  // The bytes to sign: the input up to (not including) its first '#', with
  // the scheme and host lowercased (as a browser's location.href always has
  // them) and otherwise untouched (path case, port, query, percent-escapes):
  // WeChat checks the signature against the page's own URL without its
  // fragment, and the two must match byte for byte.
  std::string url_to_sign;
  // The host, ASCII-lowercased, without port; an IPv6 literal keeps its
  // brackets ("[::1]"). For the allowed_page_hosts check only.
  std::string host;
};

// Validates a page URL as a browser's location.href would look and returns
// what to sign. INVALID_ARGUMENT with reason INVALID_URL and metadata
// field=url when the URL is
//   - empty or longer than kMaxPageUrlLength bytes (the fragment counts);
//   - carrying any byte <= 0x20 (whitespace, controls), DEL, or any byte
//     >= 0x80 (location.href is always percent-encoded ASCII, so raw UTF-8,
//     NBSP included, means the caller decoded it and the signature would not
//     match the page's);
//   - not absolute "http://" or "https://" (scheme case-insensitive);
//   - without a host, with userinfo ("user@"; also closes "a.com\@b.com"
//     tricks), with a host that is not LDH/underscore labels, a valid dotted
//     IPv4 address or a bracketed IPv6 literal without zone id, with a
//     trailing dot, or with a port that is empty, non-numeric or > 65535.
// Messages never quote the URL: page URLs often carry OAuth codes.
// A free function over bytes, so a fuzzer can drive it.
absl::StatusOr<PageUrl> NormalizePageUrl(absl::string_view url);

// Whether `host` (as PageUrl::host) matches one allowed_page_hosts entry,
// ASCII case-insensitively: "shop.example.com" matches itself only;
// "*.example.com" matches any host with one or more labels before
// ".example.com" but not "example.com" itself (list both for both). Any other
// use of '*' matches nothing.
bool HostMatchesPattern(absl::string_view host, absl::string_view pattern);

// Whether `host` matches any of `patterns`, or `patterns` is empty (no
// restriction configured). Patterns is any range of string-like values, e.g.
// the config's repeated string field.
template <typename Patterns>
bool HostAllowed(absl::string_view host, const Patterns& patterns) {
  bool restricted = false;
  for (const auto& pattern : patterns) {
    restricted = true;
    if (HostMatchesPattern(host, pattern)) return true;
  }
  return !restricted;
}
inline bool HostAllowed(absl::string_view host, std::initializer_list<absl::string_view> patterns) {
  return HostAllowed<std::initializer_list<absl::string_view>>(host, patterns);
}

// PERMISSION_DENIED, reason URL_HOST_NOT_ALLOWED, metadata host=<host>.
absl::Status HostNotAllowedError(absl::string_view host);

// OK when HostAllowed, else HostNotAllowedError(host).
template <typename Patterns>
absl::Status CheckHostAllowed(absl::string_view host, const Patterns& patterns) {
  return HostAllowed(host, patterns) ? absl::OkStatus() : HostNotAllowedError(host);
}

}  // namespace wxgate::signature

#endif  // WXGATE_SERVER_SIGNATURE_PAGE_URL_H_
