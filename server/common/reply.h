#ifndef WXGATE_SERVER_COMMON_REPLY_H_
#define WXGATE_SERVER_COMMON_REPLY_H_

#include <string>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "server/common/errors.h"

namespace wxgate {

// How business logic answers a request: exactly once, from any thread.
template <class T>
using Reply = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;

// `reply` wrapped so that every error it carries names `app` (WithApp): what
// logic does once it has resolved the app a request names.
template <class T>
Reply<T> NamingApp(std::string app, Reply<T> reply) {
  return [app = std::move(app), reply = std::move(reply)](absl::StatusOr<T> result) mutable {
    if (!result.ok()) result = WithApp(result.status(), app);
    std::move(reply)(std::move(result));
  };
}

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_REPLY_H_
