#ifndef WXGATE_SERVER_COMMON_REPLY_H_
#define WXGATE_SERVER_COMMON_REPLY_H_

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"

namespace wxgate {

// How business logic answers a request: exactly once, from any thread.
template <class T>
using Reply = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_REPLY_H_
