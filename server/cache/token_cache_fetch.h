#ifndef WXGATE_SERVER_CACHE_TOKEN_CACHE_FETCH_H_
#define WXGATE_SERVER_CACHE_TOKEN_CACHE_FETCH_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/cache/token_cache.h"

namespace wxgate::cache::cache_internal {

// One fetch of one entry, from the store read to Entry::Finish: read the
// store (adopt what another replica fetched), take the store lock (poll while
// another replica holds it), call the fetcher, write with CompareAndSet,
// unlock. It owns itself: each step hands the unique_ptr to the callback of
// the asynchronous operation it starts, so whichever thread completes that
// operation runs the next step. Private to the token cache.
class FetchFlow {
 public:
  static void Start(TokenCache::Entry& entry, uint64_t generation);

 private:
  FetchFlow(TokenCache::Entry& entry, uint64_t generation);

  static void ReadStore(std::unique_ptr<FetchFlow> self);
  static void OnRead(std::unique_ptr<FetchFlow> self,
                     absl::StatusOr<std::optional<StoredValue>> read);
  static void OnLock(std::unique_ptr<FetchFlow> self, absl::StatusOr<bool> taken);
  static void CallFetcher(std::unique_ptr<FetchFlow> self);
  static void OnFetched(std::unique_ptr<FetchFlow> self, absl::StatusOr<FetchedValue> fetched);
  static void OnWritten(std::unique_ptr<FetchFlow> self, absl::StatusOr<CasResult> cas);
  static void Done(std::unique_ptr<FetchFlow> self, absl::StatusOr<StoredValue> result);

  TokenCache::Entry& entry_;
  TokenCache& cache_;
  const uint64_t generation_;
  const std::string owner_;
  // What the store held when read; the CompareAndSet's expectation.
  std::optional<std::string> expected_;
  // False once the store failed: the flow then neither locks nor writes.
  bool use_store_ = true;
  bool locked_ = false;
  absl::Time fetch_start_;
  StoredValue fetched_;
};

}  // namespace wxgate::cache::cache_internal

#endif  // WXGATE_SERVER_CACHE_TOKEN_CACHE_FETCH_H_
