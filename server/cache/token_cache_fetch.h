#ifndef WXGATE_SERVER_CACHE_TOKEN_CACHE_FETCH_H_
#define WXGATE_SERVER_CACHE_TOKEN_CACHE_FETCH_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/cache/token_cache.h"

namespace wxgate::cache::cache_internal {

// One fetch of one entry, from the store to Entry::Finish: read the store
// and, in the same atomic step, take its lock unless the store holds a value
// worth adopting (what another replica fetched); while another replica holds
// the lock, wait for its value (pushed by the store, or looked for again
// after lock_poll_interval); call the fetcher, write with CompareAndSet,
// unlock. It owns itself: each step hands the unique_ptr to the callback of
// the asynchronous operation it starts, so whichever thread completes that
// operation runs the next step. Private to the token cache.
class FetchFlow {
 public:
  static void Start(TokenCache::Entry& entry, uint64_t generation);

 private:
  FetchFlow(TokenCache::Entry& entry, uint64_t generation);

  static void Claim(std::unique_ptr<FetchFlow> self);
  static void OnClaim(std::unique_ptr<FetchFlow> self, absl::StatusOr<cache::Claim> claim);
  static void CallFetcher(std::unique_ptr<FetchFlow> self);
  static void OnFetched(std::unique_ptr<FetchFlow> self, absl::StatusOr<FetchedValue> fetched);
  static void OnWritten(std::unique_ptr<FetchFlow> self, absl::StatusOr<CasResult> cas);
  static void Done(std::unique_ptr<FetchFlow> self, absl::StatusOr<StoredValue> result);

  TokenCache::Entry& entry_;
  TokenCache& cache_;
  const uint64_t generation_;
  const std::string owner_;
  // Values not to adopt from the store: the entry's own (being replaced) and
  // the one upstream rejected, then any found unusable.
  std::vector<std::string> avoid_;
  // When the value being replaced was fetched: the store holding that same
  // value fetched later means another replica re-fetched it (a re-issue).
  std::optional<absl::Time> replacing_fetched_at_;
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
