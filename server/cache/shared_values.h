#ifndef WXGATE_SERVER_CACHE_SHARED_VALUES_H_
#define WXGATE_SERVER_CACHE_SHARED_VALUES_H_

#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace wxgate::cache {

// Short-lived answers replicas share so that one replica's upstream call
// spares the others theirs (e.g. GetExternalContact). Best effort: a value
// that cannot be read or written counts as absent, and the caller asks
// upstream. Implementations keep values confidential at rest (Redis: sealed).
//
// Thread contract: thread-safe; Get's callback runs exactly once, on any
// thread, never under a lock the caller could hold.
class SharedValues {
 public:
  using GetCallback = absl::AnyInvocable<void(std::optional<std::string>) &&>;

  virtual ~SharedValues() = default;

  // The live value under `key`, or nullopt (absent, expired, unreadable, or
  // the store unavailable).
  virtual void Get(absl::string_view key, GetCallback done) = 0;
  // Stores `value` under `key` for `ttl`; a failure is dropped.
  virtual void Put(absl::string_view key, std::string value, absl::Duration ttl) = 0;
};

}  // namespace wxgate::cache

#endif  // WXGATE_SERVER_CACHE_SHARED_VALUES_H_
