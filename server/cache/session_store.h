#ifndef WXGATE_SERVER_CACHE_SESSION_STORE_H_
#define WXGATE_SERVER_CACHE_SESSION_STORE_H_

#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace wxgate::cache {

// Remembers each user's mini-program session_key (from code2Session) so that
// later requests can check rawData signatures and decrypt encryptedData. A
// session_key is a secret: implementations never log it or put it in an
// error, and a shared (Redis) implementation must keep it encrypted at rest.
//
// A new login replaces the user's previous session_key (WeChat rotates it on
// wx.login). Entries expire after a TTL and may be evicted earlier under
// memory pressure: a miss means "ask the user to log in again", never an
// error.
//
// Thread contract: thread-safe. Callbacks run exactly once, inline (in-memory)
// or on any thread (remote), never under the store's lock.
//
// Deadlines: a remote store bounds every operation by its own command
// timeout (store.redis.timeout, 200 ms by default), shorter than any caller
// deadline worth serving, so the interface takes none; a caller that goes
// away meanwhile is answered nothing by the call layer.
class SessionStore {
 public:
  using PutCallback = absl::AnyInvocable<void(absl::Status) &&>;
  using GetCallback = absl::AnyInvocable<void(absl::StatusOr<std::optional<std::string>>) &&>;

  virtual ~SessionStore() = default;

  // Stores (or replaces) the session_key of `user` (openid) in `app`.
  virtual void Put(absl::string_view app, absl::string_view user, std::string session_key,
                   PutCallback done) = 0;

  // The user's live session_key, or nullopt.
  virtual void Get(absl::string_view app, absl::string_view user, GetCallback done) = 0;

  // Forgets the user's session_key (e.g. after it failed to decrypt data).
  virtual void Erase(absl::string_view app, absl::string_view user, PutCallback done) = 0;
};

}  // namespace wxgate::cache

#endif  // WXGATE_SERVER_CACHE_SESSION_STORE_H_
