// Compare-and-refresh and the retry-once helper.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/cache/call_with_token.h"
#include "server/cache/token_cache.h"
#include "server/common/errors.h"
#include "tests/cache/cache_test_support.h"

namespace wxgate::cache {
namespace {

using testing::CacheHarness;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Eq;
using testing::FakeFetcher;
using testing::Recorder;
using testing::ValueOf;

constexpr absl::Duration kTwoHours = absl::Hours(2);

class RefreshTest : public ::testing::Test {
 protected:
  RefreshTest() : entry_(h_.cache->Register("k", fetcher_.AsFetcher())) {}

  // Fills the entry with `value`.
  void Warm(const std::string& value) {
    Recorder recorder;
    entry_.Get(absl::InfiniteFuture(), recorder.Callback());
    ASSERT_TRUE(fetcher_.Complete(value, kTwoHours));
    ASSERT_EQ(ValueOf(recorder.last()), value);
  }

  CacheHarness h_;
  FakeFetcher fetcher_;
  TokenCache::Entry& entry_;
};

TEST_F(RefreshTest, RefreshOfTheCurrentValueFetches) {
  Warm("T1");
  Recorder recorder;
  entry_.Refresh("T1", h_.In(absl::Seconds(5)), recorder.Callback());
  EXPECT_EQ(fetcher_.calls(), 2);
  EXPECT_EQ(recorder.count(), 0u);
  ASSERT_TRUE(fetcher_.Complete("T2", kTwoHours));
  EXPECT_THAT(recorder.Summary(), ElementsAre("T2"));
}

// A fetcher learns which value it replaces because upstream rejected it (a
// stable token's fetcher forces a refresh when upstream hands that value
// back), and that an ordinary fetch replaces none.
TEST_F(RefreshTest, TheFetcherIsToldTheValueUpstreamRejected) {
  Warm("T1");
  Recorder recorder;
  entry_.Refresh("T1", absl::InfiniteFuture(), recorder.Callback());
  // A failed fetch leaves the value rejected: the next fetch is told again.
  ASSERT_TRUE(fetcher_.Complete(absl::UnavailableError("busy")));
  h_.scheduler.AdvanceBy(absl::Seconds(2));
  Recorder retry;
  entry_.Get(absl::InfiniteFuture(), retry.Callback());
  ASSERT_TRUE(fetcher_.Complete("T2", kTwoHours));
  ASSERT_EQ(ValueOf(retry.last()), "T2");
  h_.scheduler.AdvanceBy(kTwoHours - absl::Minutes(5));  // into the refresh window
  Recorder ahead;
  entry_.Get(absl::InfiniteFuture(), ahead.Callback());
  ASSERT_TRUE(fetcher_.Complete("T3", kTwoHours));
  EXPECT_THAT(fetcher_.rejected(), ElementsAre(std::nullopt, std::optional<std::string>("T1"),
                                               std::optional<std::string>("T1"), std::nullopt));
}

TEST_F(RefreshTest, StaleRefreshAfterSomeoneRefreshedAnswersTheNewValueWithoutFetching) {
  Warm("T1");
  Recorder first;
  entry_.Refresh("T1", absl::InfiniteFuture(), first.Callback());
  ASSERT_TRUE(fetcher_.Complete("T2", kTwoHours));
  ASSERT_EQ(fetcher_.calls(), 2);

  // A caller that used T1 before the refresh reports it late.
  Recorder late;
  const TokenCache::WaitId id = entry_.Refresh("T1", absl::InfiniteFuture(), late.Callback());
  EXPECT_EQ(id, 0u);
  EXPECT_THAT(late.Summary(), ElementsAre("T2"));
  EXPECT_EQ(fetcher_.calls(), 2);
}

// The 40001 loop: a storm where every token is rejected. The value fetched to
// replace a rejected one is not replaced again on a rejection for
// rejection_refresh_interval, however many callers report it.
TEST_F(RefreshTest, AValueFetchedForARejectionIsNotReplacedAgainSoon) {
  Warm("T1");
  Recorder first;
  entry_.Refresh("T1", absl::InfiniteFuture(), first.Callback());
  ASSERT_TRUE(fetcher_.Complete("T2", kTwoHours));
  ASSERT_EQ(fetcher_.calls(), 2);
  for (int i = 0; i < 10; ++i) {
    Recorder again;
    EXPECT_EQ(entry_.Refresh("T2", absl::InfiniteFuture(), again.Callback()), 0u);
    ASSERT_EQ(again.count(), 1u);
    EXPECT_TRUE(IsRefreshRefused(again.last().status())) << again.last().status();
  }
  EXPECT_EQ(fetcher_.calls(), 2);
  // Gets still serve T2: only the rejection-driven replacement is held back.
  Recorder get;
  entry_.Get(absl::InfiniteFuture(), get.Callback());
  EXPECT_THAT(get.Summary(), ElementsAre("T2"));

  // Once the interval is over, a rejection refreshes again (once).
  h_.clock.Advance(TokenCacheOptions().rejection_refresh_interval);
  Recorder later;
  entry_.Refresh("T2", absl::InfiniteFuture(), later.Callback());
  EXPECT_EQ(fetcher_.calls(), 3);
  ASSERT_TRUE(fetcher_.Complete("T3", kTwoHours));
  EXPECT_THAT(later.Summary(), ElementsAre("T3"));
}

// A value that arrived by an ordinary fetch may be refreshed on its first
// rejection, however young it is (a token revoked right after issue).
// In a storm that keeps going, the pause between rejection-driven fetches
// doubles: 5 s, 10 s, 20 s... until an ordinary fetch starts it over.
TEST_F(RefreshTest, TheRejectionGuardDoublesWhileRejectionsContinue) {
  Warm("T0");
  int n = 0;
  auto reject_current = [&](const std::string& current) {
    Recorder r;
    entry_.Refresh(current, absl::InfiniteFuture(), r.Callback());
    if (fetcher_.pending() > 0) {
      ASSERT_TRUE(fetcher_.Complete(absl::StrCat("T", ++n), kTwoHours));
    }
  };
  reject_current("T0");  // the first rejection refreshes at once
  ASSERT_EQ(fetcher_.calls(), 2);
  const absl::Duration base = TokenCacheOptions().rejection_refresh_interval;
  for (int round = 0; round < 3; ++round) {
    const absl::Duration guard = base * (1 << round);
    h_.clock.Advance(guard - absl::Milliseconds(1));
    reject_current(absl::StrCat("T", n));
    EXPECT_EQ(fetcher_.calls(), 2 + round) << "refreshed inside the guard of " << guard;
    h_.clock.Advance(absl::Milliseconds(1));
    reject_current(absl::StrCat("T", n));
    EXPECT_EQ(fetcher_.calls(), 3 + round) << "not refreshed after the guard of " << guard;
  }
}

TEST_F(RefreshTest, AFreshValueFromAnOrdinaryFetchIsRefreshedOnRejection) {
  Warm("T1");
  Recorder recorder;
  entry_.Refresh("T1", absl::InfiniteFuture(), recorder.Callback());
  EXPECT_EQ(fetcher_.calls(), 2);
  ASSERT_TRUE(fetcher_.Complete("T2", kTwoHours));
  EXPECT_THAT(recorder.Summary(), ElementsAre("T2"));
}

TEST_F(RefreshTest, HundredConcurrentReportsOfOneValueCauseOneFetch) {
  Warm("T1");
  Recorder recorder;
  for (int i = 0; i < 100; ++i) entry_.Refresh("T1", absl::InfiniteFuture(), recorder.Callback());
  EXPECT_EQ(fetcher_.calls(), 2);
  ASSERT_TRUE(fetcher_.Complete("T2", kTwoHours));
  EXPECT_EQ(recorder.count(), 100u);
  EXPECT_THAT(recorder.Summary(), Each(Eq("T2")));
  EXPECT_EQ(fetcher_.calls(), 2);
}

TEST_F(RefreshTest, GetsAfterARejectionWaitForTheReplacement) {
  Warm("T1");
  Recorder refresh;
  entry_.Refresh("T1", absl::InfiniteFuture(), refresh.Callback());
  // Upstream said T1 is dead: nobody should be handed it any more.
  Recorder get;
  entry_.Get(absl::InfiniteFuture(), get.Callback());
  EXPECT_EQ(get.count(), 0u);
  ASSERT_TRUE(fetcher_.Complete("T2", kTwoHours));
  EXPECT_THAT(get.Summary(), ElementsAre("T2"));
  EXPECT_EQ(fetcher_.calls(), 2);
}

TEST_F(RefreshTest, RefreshJoinsABackgroundRefreshInFlight) {
  Warm("T1");
  h_.clock.Advance(absl::Seconds(6840));  // refresh window
  Recorder get;
  entry_.Get(absl::InfiniteFuture(), get.Callback());
  EXPECT_THAT(get.Summary(), ElementsAre("T1"));
  ASSERT_EQ(fetcher_.calls(), 2);

  Recorder refresh;
  entry_.Refresh("T1", absl::InfiniteFuture(), refresh.Callback());
  EXPECT_EQ(fetcher_.calls(), 2);
  ASSERT_TRUE(fetcher_.Complete("T2", kTwoHours));
  EXPECT_THAT(refresh.Summary(), ElementsAre("T2"));
}

TEST_F(RefreshTest, RefreshOfAnUnknownValueOnAnEmptyEntryFetches) {
  Recorder recorder;
  entry_.Refresh("never-cached", absl::InfiniteFuture(), recorder.Callback());
  EXPECT_EQ(fetcher_.calls(), 1);
  ASSERT_TRUE(fetcher_.Complete("T1", kTwoHours));
  EXPECT_THAT(recorder.Summary(), ElementsAre("T1"));
}

TEST_F(RefreshTest, RefreshDuringBackoffAnswersTheLastErrorWithoutFetching) {
  Warm("T1");
  Recorder first;
  entry_.Refresh("T1", absl::InfiniteFuture(), first.Callback());
  ASSERT_TRUE(fetcher_.Complete(absl::UnavailableError("upstream down")));
  EXPECT_THAT(first.Summary(), ElementsAre("UNAVAILABLE"));

  Recorder second;
  entry_.Refresh("T1", absl::InfiniteFuture(), second.Callback());
  EXPECT_THAT(second.Summary(), ElementsAre("UNAVAILABLE"));
  EXPECT_EQ(fetcher_.calls(), 2);
}

// CallWithToken: a call that answers an errcode, as the typed clients do;
// this one knows a single rejection errcode.
constexpr int kTokenRejected = 40001;

struct Reply {
  int errcode = 0;
  std::string token_used;
};

IsTokenError<Reply> RejectedToken() {
  return [](const absl::StatusOr<Reply>& reply) {
    return reply.ok() && reply->errcode == kTokenRejected;
  };
}

class CallWithTokenTest : public RefreshTest {
 protected:
  // A call that rejects every token in `rejected` with 40001.
  TokenCall<Reply> Call(std::vector<std::string> rejected) {
    return [this, rejected = std::move(rejected)](
               const std::string& token, absl::AnyInvocable<void(absl::StatusOr<Reply>) &&> done) {
      tokens_used_.push_back(token);
      const bool reject = std::find(rejected.begin(), rejected.end(), token) != rejected.end();
      std::move(done)(Reply{.errcode = reject ? 40001 : 0, .token_used = token});
    };
  }

  absl::AnyInvocable<void(absl::StatusOr<Reply>) &&> Capture() {
    return [this](absl::StatusOr<Reply> reply) {
      ++done_calls_;
      reply_ = std::move(reply);
    };
  }

  std::vector<std::string> tokens_used_;
  int done_calls_ = 0;
  absl::StatusOr<Reply> reply_ = absl::UnknownError("not called");
};

TEST_F(CallWithTokenTest, AcceptedTokenIsNotRefreshed) {
  Warm("T1");
  CallWithToken<Reply>(entry_, absl::InfiniteFuture(), Call({}), RejectedToken(), Capture());
  EXPECT_EQ(done_calls_, 1);
  ASSERT_TRUE(reply_.ok());
  EXPECT_EQ(reply_->errcode, 0);
  EXPECT_THAT(tokens_used_, ElementsAre("T1"));
  EXPECT_EQ(fetcher_.calls(), 1);
}

TEST_F(CallWithTokenTest, RejectedTokenIsRefreshedAndTheCallRetriedOnce) {
  Warm("T1");
  fetcher_.SetAutoAnswer([](int) -> absl::StatusOr<FetchedValue> {
    return FetchedValue{.value = "T2", .expires_in = kTwoHours};
  });
  CallWithToken<Reply>(entry_, absl::InfiniteFuture(), Call({"T1"}), RejectedToken(), Capture());
  EXPECT_EQ(done_calls_, 1);
  ASSERT_TRUE(reply_.ok());
  EXPECT_EQ(reply_->errcode, 0);
  EXPECT_EQ(reply_->token_used, "T2");
  EXPECT_THAT(tokens_used_, ElementsAre("T1", "T2"));
  EXPECT_EQ(fetcher_.calls(), 2);
}

TEST_F(CallWithTokenTest, NeverLoopsWhenUpstreamKeepsRejecting) {
  Warm("T");
  // Upstream hands out the same token it then rejects (WeCom may return the
  // same token within its validity).
  fetcher_.SetAutoAnswer([](int) -> absl::StatusOr<FetchedValue> {
    return FetchedValue{.value = "T", .expires_in = kTwoHours};
  });
  CallWithToken<Reply>(entry_, absl::InfiniteFuture(), Call({"T"}), RejectedToken(), Capture());
  EXPECT_EQ(done_calls_, 1);
  ASSERT_TRUE(reply_.ok());
  EXPECT_EQ(reply_->errcode, 40001);                 // the retry's own outcome, handed back
  EXPECT_THAT(tokens_used_, ElementsAre("T", "T"));  // one call, one retry
  EXPECT_EQ(fetcher_.calls(), 2);                    // one warm fetch, one refresh
}

TEST_F(CallWithTokenTest, RetryWorksAcrossAsynchronousCompletions) {
  Warm("T1");
  CallWithToken<Reply>(entry_, absl::InfiniteFuture(), Call({"T1"}), RejectedToken(), Capture());
  // The refresh is queued on the fetcher: nothing has completed yet.
  EXPECT_EQ(done_calls_, 0);
  ASSERT_TRUE(fetcher_.Complete("T2", kTwoHours));
  EXPECT_EQ(done_calls_, 1);
  EXPECT_THAT(tokens_used_, ElementsAre("T1", "T2"));
}

TEST_F(CallWithTokenTest, CacheErrorsReachDoneWithoutCalling) {
  CallWithToken<Reply>(entry_, absl::InfiniteFuture(), Call({}), RejectedToken(), Capture());
  ASSERT_TRUE(fetcher_.Complete(absl::UnavailableError("down")));
  EXPECT_EQ(done_calls_, 1);
  EXPECT_EQ(reply_.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(tokens_used_.empty());
}

TEST_F(CallWithTokenTest, RefreshErrorReachesDone) {
  Warm("T1");
  fetcher_.SetAutoAnswer([](int) -> absl::StatusOr<FetchedValue> {
    return MarkConfigError(absl::PermissionDeniedError("ip not whitelisted"));
  });
  CallWithToken<Reply>(entry_, absl::InfiniteFuture(), Call({"T1"}), RejectedToken(), Capture());
  EXPECT_EQ(done_calls_, 1);
  EXPECT_EQ(reply_.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(tokens_used_, ElementsAre("T1"));
}

TEST_F(CallWithTokenTest, ErrorStatusesCanBeTokenErrorsToo) {
  Warm("T1");
  fetcher_.SetAutoAnswer(FakeFetcher::Numbered(kTwoHours));
  int attempts = 0;
  TokenCall<int> call = [&attempts](const std::string& token,
                                    absl::AnyInvocable<void(absl::StatusOr<int>) &&> done) {
    ++attempts;
    if (token == "T1") {
      std::move(done)(MakeError(absl::StatusCode::kUnauthenticated, "WECHAT_TOKEN_REJECTED", "x"));
    } else {
      std::move(done)(42);
    }
  };
  absl::StatusOr<int> result = 0;
  CallWithToken<int>(
      entry_, absl::InfiniteFuture(), std::move(call),
      [](const absl::StatusOr<int>& r) {
        return ErrorReason(r.status()) == "WECHAT_TOKEN_REJECTED";
      },
      [&result](absl::StatusOr<int> r) { result = std::move(r); });
  EXPECT_EQ(attempts, 2);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 42);
}

}  // namespace
}  // namespace wxgate::cache
