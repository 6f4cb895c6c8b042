#ifndef WXGATE_TESTS_CACHE_CACHE_TEST_SUPPORT_H_
#define WXGATE_TESTS_CACHE_CACHE_TEST_SUPPORT_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/cache/fetch.h"
#include "server/cache/in_memory_value_store.h"
#include "server/cache/scheduler.h"
#include "server/cache/token_cache.h"
#include "server/common/clock.h"

namespace wxgate::cache::testing {

// A fetcher whose completions the test controls. By default each call is
// queued until the test completes it (from any thread); with an auto answer
// set, calls complete inline. Thread-safe.
class FakeFetcher {
 public:
  // Answers for call number n (1-based) when completing automatically.
  using Answer = std::function<absl::StatusOr<FetchedValue>(int n)>;

  // Values "token-1", "token-2", ... living `lifetime`.
  static Answer Numbered(absl::Duration lifetime) {
    return [lifetime](int n) -> absl::StatusOr<FetchedValue> {
      return FetchedValue{.value = absl::StrCat("token-", n), .expires_in = lifetime};
    };
  }

  Fetcher AsFetcher() {
    return [this](FetchRequest request, FetchCallback done) {
      OnFetch(std::move(request), std::move(done));
    };
  }

  // Completes inline from now on (null: queue again).
  void SetAutoAnswer(Answer answer) {
    absl::MutexLock lock(&mu_);
    auto_answer_ = std::move(answer);
  }

  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  size_t pending() const {
    absl::MutexLock lock(&mu_);
    return pending_.size();
  }
  // FetchRequest::rejected of each call, in order.
  std::vector<std::optional<std::string>> rejected() const {
    absl::MutexLock lock(&mu_);
    return rejected_;
  }
  std::vector<absl::Time> deadlines() const {
    absl::MutexLock lock(&mu_);
    return deadlines_;
  }

  // Completes the oldest queued fetch on this thread; false if none is queued.
  bool Complete(absl::StatusOr<FetchedValue> result) {
    FetchCallback done;
    {
      absl::MutexLock lock(&mu_);
      if (pending_.empty()) return false;
      done = std::move(pending_.front());
      pending_.pop_front();
    }
    std::move(done)(std::move(result));
    return true;
  }
  bool Complete(std::string value, absl::Duration lifetime) {
    return Complete(FetchedValue{.value = std::move(value), .expires_in = lifetime});
  }

  // Blocks until a fetch is queued or Stop was called; whether one is queued.
  // For a helper thread that completes fetches.
  bool WaitForPending() const {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &FakeFetcher::PendingOrStopped));
    return !pending_.empty();
  }
  void Stop() {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
  }

 private:
  bool PendingOrStopped() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !pending_.empty() || stopped_;
  }

  void OnFetch(FetchRequest request, FetchCallback done) {
    std::optional<absl::StatusOr<FetchedValue>> answer;
    {
      absl::MutexLock lock(&mu_);
      ++calls_;
      deadlines_.push_back(request.deadline);
      rejected_.push_back(std::move(request.rejected));
      if (auto_answer_) {
        answer = auto_answer_(calls_);
      } else {
        pending_.push_back(std::move(done));
      }
    }
    if (answer.has_value()) std::move(done)(*std::move(answer));
  }

  mutable absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
  std::vector<std::optional<std::string>> rejected_ ABSL_GUARDED_BY(mu_);
  std::deque<FetchCallback> pending_ ABSL_GUARDED_BY(mu_);
  Answer auto_answer_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

// Collects the outcomes of cache callbacks. Thread-safe.
class Recorder {
 public:
  TokenCache::ValueCallback Callback() {
    return [this](absl::StatusOr<TokenCache::ValueRef> result) {
      absl::MutexLock lock(&mu_);
      results_.push_back(std::move(result));
    };
  }

  size_t count() const {
    absl::MutexLock lock(&mu_);
    return results_.size();
  }
  absl::StatusOr<TokenCache::ValueRef> last() const {
    absl::MutexLock lock(&mu_);
    if (results_.empty()) return absl::InternalError("no callback ran");
    return results_.back();
  }
  // "value" for an OK result, "<CODE>" otherwise, in arrival order.
  std::vector<std::string> Summary() const {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const auto& result : results_) {
      out.push_back(result.ok() ? (*result)->value
                                : std::string(absl::StatusCodeToString(result.status().code())));
    }
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<absl::StatusOr<TokenCache::ValueRef>> results_ ABSL_GUARDED_BY(mu_);
};

// The value of a callback that must already have run with a value, or a
// description of what happened instead.
inline std::string ValueOf(const absl::StatusOr<TokenCache::ValueRef>& result) {
  return result.ok() ? (*result)->value : result.status().ToString();
}

// Clock, scheduler, in-memory store and a cache over them, with the jitter
// fixed (0.5 unless told otherwise) so backoff delays are exact.
struct CacheHarness {
  explicit CacheHarness(TokenCacheOptions options = {}, double jitter = 0.5) {
    auto created = TokenCache::Create(store, clock, scheduler, std::move(options),
                                      [jitter] { return jitter; });
    cache = *std::move(created);
  }

  absl::Time Now() const { return clock.Now(); }
  absl::Time In(absl::Duration d) const { return clock.Now() + d; }

  SimulatedClock clock;
  SimulatedScheduler scheduler{clock};
  InMemoryValueStore store{clock};
  std::unique_ptr<TokenCache> cache;
};

}  // namespace wxgate::cache::testing

#endif  // WXGATE_TESTS_CACHE_CACHE_TEST_SUPPORT_H_
