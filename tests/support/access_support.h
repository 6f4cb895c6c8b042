#ifndef WXGATE_TESTS_SUPPORT_ACCESS_SUPPORT_H_
#define WXGATE_TESTS_SUPPORT_ACCESS_SUPPORT_H_

// What the integration tests of callers, the audit trail and reload share:
// the digests a config and an audit line carry, calls made as a bearer-token
// caller, and the lines of an audit file.

#include <grpcpp/client_context.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/support/wxgate_process.h"

namespace wxgate::test {

// Lowercase hex SHA-256 of `data`: a caller's bearer_token_sha256.
std::string Sha256Hex(absl::string_view data);

// Lowercase hex HMAC-SHA256 of `data` under `key`: an audit line's subject
// for user id `data` under the configured subject key. Computed here with
// OpenSSL, independently of the server's code.
std::string HmacSha256Hex(absl::string_view key, absl::string_view data);

// CallUnary (wxgate_process.h) with `authorization: Bearer <token>` on the
// call; an empty token sends no authorization at all.
template <class Stub, class Request, class Response>
RpcResult CallUnaryAs(absl::string_view token, Stub& stub,
                      grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                      const Request& request, Response* response,
                      absl::Duration timeout = absl::Seconds(10)) {
  return CallRpc(
      [&](grpc::ClientContext* ctx) {
        if (!token.empty()) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
        return (stub.*method)(ctx, request, response);
      },
      timeout);
}

// The complete lines ('\n'-terminated, without it) of the file at `path`;
// none when it does not exist.
std::vector<std::string> CompleteLines(absl::string_view path);

// Waits (bounded by `timeout`) until the file at `path` holds at least `n`
// complete lines, and returns them all: the audit log writes on a thread of
// its own, after the call was answered.
absl::StatusOr<std::vector<std::string>> WaitForLines(absl::string_view path, size_t n,
                                                      absl::Duration timeout = absl::Seconds(30));

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_ACCESS_SUPPORT_H_
