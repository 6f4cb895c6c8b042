// signature::NormalizePageUrl and HostMatchesPattern.
//
// Input: "<url>\n<pattern>\n<host>"; pattern and host are optional (a URL
// cannot hold '\n', so nothing is lost by the split).
//
// Invariants: no crash. An error is INVALID_ARGUMENT INVALID_URL with only
// field=url as metadata and no 10-byte piece of the URL in its message. An
// OK result signs the input up to its first '#' with the scheme and host
// lowercased and every other byte kept: so no '#', no longer than the input,
// a lowercase host right after the scheme; and normalizing url_to_sign again
// gives the same url_to_sign and host. HostMatchesPattern agrees with a
// restatement of its contract, for the normalized host and for the raw host
// and pattern of the input.
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "server/common/reasons.h"
#include "server/signature/page_url.h"
#include "tests/fuzz/fuzz_check.h"

namespace wxgate::fuzz {
namespace {

// HostMatchesPattern's documented contract, restated.
bool ModelMatches(absl::string_view host, absl::string_view pattern) {
  if (absl::StartsWith(pattern, "*")) {
    const absl::string_view suffix = pattern.substr(1);  // ".example.com"
    if (suffix.size() < 2 || suffix[0] != '.' || absl::StrContains(suffix, '*')) return false;
    if (host.size() <= suffix.size()) return false;
    const absl::string_view labels = host.substr(0, host.size() - suffix.size());
    // One or more labels before the suffix: not empty, not ending in '.'.
    return absl::EqualsIgnoreCase(host.substr(labels.size()), suffix) && labels.back() != '.';
  }
  return !absl::StrContains(pattern, '*') && absl::EqualsIgnoreCase(host, pattern);
}

void CheckMatch(absl::string_view host, absl::string_view pattern) {
  const bool got = signature::HostMatchesPattern(host, pattern);
  FUZZ_CHECK(got == ModelMatches(host, pattern), "HostMatchesPattern(\"", absl::CHexEscape(host),
             "\", \"", absl::CHexEscape(pattern), "\") = ", got);
  FUZZ_CHECK(signature::HostMatchesPattern(absl::AsciiStrToUpper(host),
                                           absl::AsciiStrToLower(pattern)) == got,
             "case matters for \"", absl::CHexEscape(host), "\"");
}

bool AllPrintableAscii(absl::string_view text) {
  for (unsigned char c : text) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

void CheckError(absl::string_view url, const absl::Status& status) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument &&
                 ErrorReason(status) == reason::kInvalidUrl,
             Describe(status));
  const ErrorMetadata metadata = GetErrorMetadata(status);
  FUZZ_CHECK(metadata.size() == 1 && metadata[0].first == "field" && metadata[0].second == "url",
             Describe(status));
  // The fixed texts have no run of 10 printable non-space bytes, so for a URL
  // of printable ASCII any such piece in the message came from the URL.
  if (!AllPrintableAscii(url)) return;
  constexpr size_t kWindow = 10;
  for (size_t i = 0; i + kWindow <= url.size(); ++i) {
    FUZZ_CHECK(!absl::StrContains(status.message(), url.substr(i, kWindow)),
               "message quotes the URL: ", Describe(status));
  }
}

void CheckOk(absl::string_view url, const signature::PageUrl& page) {
  const std::string& to_sign = page.url_to_sign;
  const absl::string_view before_hash = url.substr(0, url.find('#'));
  FUZZ_CHECK(!absl::StrContains(to_sign, '#'), "'#' in ", to_sign);
  FUZZ_CHECK(to_sign.size() <= url.size(), to_sign);
  // Equal up to case, and equal byte for byte after the host.
  FUZZ_CHECK(to_sign.size() == before_hash.size() && absl::EqualsIgnoreCase(to_sign, before_hash),
             "not the input up to '#': ", to_sign);
  const size_t scheme = absl::StartsWith(to_sign, "http://")    ? 7
                        : absl::StartsWith(to_sign, "https://") ? 8
                                                                : 0;
  FUZZ_CHECK(scheme != 0, "scheme not lowercase http(s): ", to_sign);
  FUZZ_CHECK(!page.host.empty() && !HasUpper(page.host), "host \"", page.host, "\"");
  FUZZ_CHECK(absl::string_view(to_sign).substr(scheme, page.host.size()) == page.host, "host \"",
             page.host, "\" not after the scheme of ", to_sign);
  const size_t rest = scheme + page.host.size();
  FUZZ_CHECK(to_sign.substr(rest) == before_hash.substr(rest), "bytes after the host changed");
  const absl::string_view after_host = absl::string_view(to_sign).substr(rest);
  FUZZ_CHECK(
      after_host.empty() || after_host[0] == ':' || after_host[0] == '/' || after_host[0] == '?',
      "host not followed by port, path or query: ", to_sign);

  absl::StatusOr<signature::PageUrl> again = signature::NormalizePageUrl(to_sign);
  FUZZ_CHECK(again.ok(), "url_to_sign itself rejected: ", Describe(again.status()));
  FUZZ_CHECK(again->url_to_sign == to_sign && again->host == page.host, "not idempotent: ", to_sign,
             " -> ", again->url_to_sign);

  FUZZ_CHECK(signature::HostMatchesPattern(page.host, page.host), "host does not match itself");
  FUZZ_CHECK(
      signature::HostMatchesPattern(absl::StrCat("a.", page.host), absl::StrCat("*.", page.host)),
      "subdomain of ", page.host, " not matched by its wildcard");
  FUZZ_CHECK(!signature::HostMatchesPattern(page.host, absl::StrCat("*.", page.host)), "apex ",
             page.host, " matched by its wildcard");
  FUZZ_CHECK(signature::HostAllowed(page.host, std::vector<std::string>{}),
             "empty allowed list rejects");
}

}  // namespace
}  // namespace wxgate::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wxgate;        // NOLINT
  using namespace wxgate::fuzz;  // NOLINT
  std::vector<absl::string_view> parts = absl::StrSplit(
      absl::string_view(reinterpret_cast<const char*>(data), size), absl::MaxSplits('\n', 2));
  parts.resize(3, absl::string_view(""));
  const absl::string_view url = parts[0];
  const absl::string_view pattern = parts[1];
  const absl::string_view raw_host = parts[2];

  const absl::StatusOr<signature::PageUrl> page = signature::NormalizePageUrl(url);
  FUZZ_LOG(Outcome(page),
           page.ok() ? absl::StrCat(" ", page->url_to_sign, " host ", page->host) : std::string());
  if (page.ok()) {
    CheckOk(url, *page);
    CheckMatch(page->host, pattern);
    const bool allowed = signature::HostAllowed(page->host, {pattern, absl::string_view("*")});
    FUZZ_CHECK(allowed == ModelMatches(page->host, pattern), "HostAllowed disagrees");
  } else {
    CheckError(url, page.status());
  }
  CheckMatch(raw_host, pattern);
  return 0;
}
