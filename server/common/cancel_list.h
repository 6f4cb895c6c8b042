#ifndef WXGATE_SERVER_COMMON_CANCEL_LIST_H_
#define WXGATE_SERVER_COMMON_CANCEL_LIST_H_

#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "server/common/request_scope.h"

namespace wxgate {

// How a request that walks several asynchronous steps (a cache wait, an
// upstream transfer, a retry) abandons whichever is running when its caller
// goes away. Each step adds its canceller as it starts; Cancel runs them all.
// A canceller of a step that already ended must be a harmless no-op (token
// cache waits and HTTP transfers are), which is what lets steps add
// cancellers from any thread in any order without tracking which is current.
// After Cancel, an added canceller runs at once.
//
// Thread-safe. Cancellers run outside the lock and must not block. Shared:
// the caller's cancel hook and the steps each hold it.
class CancelList {
 public:
  using Canceller = absl::AnyInvocable<void() &&>;

  // A list whose Cancel runs when `scope`'s caller goes away.
  static std::shared_ptr<CancelList> For(RequestScope& scope) {
    auto list = std::make_shared<CancelList>();
    scope.OnCancel([list] { list->Cancel(); });
    return list;
  }

  void Add(Canceller canceller) {
    {
      absl::MutexLock lock(&mu_);
      if (!cancelled_) {
        cancellers_.push_back(std::move(canceller));
        return;
      }
    }
    std::move(canceller)();
  }

  void Cancel() {
    std::vector<Canceller> run;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      run.swap(cancellers_);
    }
    for (Canceller& canceller : run) std::move(canceller)();
  }

  bool cancelled() const {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Canceller> cancellers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_CANCEL_LIST_H_
