#include "server/common/retry.h"

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/cache/scheduler.h"
#include "server/common/cancel_list.h"
#include "server/common/clock.h"

namespace wxgate {
namespace {

// Busy is worth another attempt; anything else is final.
bool IsBusy(const absl::Status& status) { return absl::IsUnavailable(status); }

absl::Status Busy() { return absl::UnavailableError("busy"); }

// Jitter draws fixed so that every pause is exact: BackoffDelay with
// initial 100 ms gives 75 ms then 150 ms at 0.5.
double HalfJitter() { return 0.5; }
double NoJitter() { return 0.0; }
double FullJitter() { return 0.999; }

// Attempts the test answers one by one, recording when each started.
class Upstream {
 public:
  explicit Upstream(const Clock& clock) : clock_(clock) {}

  Attempt<std::string> AsAttempt() {
    return [this](RetryCallback<std::string> done) {
      started_.push_back(clock_.Now());
      pending_.push_back(std::move(done));
    };
  }

  // Answers the oldest attempt still waiting.
  void Answer(absl::StatusOr<std::string> outcome) {
    ASSERT_FALSE(pending_.empty()) << "no attempt is waiting";
    RetryCallback<std::string> done = std::move(pending_.front());
    pending_.pop_front();
    std::move(done)(std::move(outcome));
  }

  int attempts() const { return static_cast<int>(started_.size()); }
  const std::vector<absl::Time>& started() const { return started_; }
  size_t waiting() const { return pending_.size(); }

 private:
  const Clock& clock_;
  std::vector<absl::Time> started_;
  std::deque<RetryCallback<std::string>> pending_;
};

class RetryTest : public ::testing::Test {
 protected:
  void Start(absl::Time deadline, RetryPolicy policy = {.jitter = HalfJitter},
             std::shared_ptr<CancelList> cancel = nullptr) {
    RetryIdempotent<std::string>(
        scheduler_, clock_, deadline, policy, IsBusy, upstream_.AsAttempt(),
        [this](absl::StatusOr<std::string> outcome) {
          ++answers_;
          outcome_ = std::move(outcome);
        },
        std::move(cancel));
  }

  absl::Time T0() const { return t0_; }

  SimulatedClock clock_;
  cache::SimulatedScheduler scheduler_{clock_};
  const absl::Time t0_ = clock_.Now();
  Upstream upstream_{clock_};
  int answers_ = 0;
  absl::StatusOr<std::string> outcome_ = absl::UnknownError("not answered");
};

TEST_F(RetryTest, ASuccessIsAnsweredAtOnce) {
  Start(absl::InfiniteFuture());
  upstream_.Answer("value");
  EXPECT_EQ(answers_, 1);
  EXPECT_EQ(*outcome_, "value");
  EXPECT_EQ(upstream_.attempts(), 1);
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(RetryTest, ARetryableFailureIsRetriedAfterTheJitteredPause) {
  Start(absl::InfiniteFuture());
  upstream_.Answer(Busy());
  EXPECT_EQ(answers_, 0);
  scheduler_.AdvanceBy(absl::Milliseconds(74));
  EXPECT_EQ(upstream_.attempts(), 1) << "retried before the pause ended";
  scheduler_.AdvanceBy(absl::Milliseconds(1));
  ASSERT_EQ(upstream_.attempts(), 2);
  EXPECT_EQ(upstream_.started()[1], T0() + absl::Milliseconds(75));
  upstream_.Answer("value");
  EXPECT_EQ(answers_, 1);
  EXPECT_EQ(*outcome_, "value");
}

TEST_F(RetryTest, AttemptsAreBoundedAndTheLastFailureIsAnswered) {
  Start(absl::InfiniteFuture());
  upstream_.Answer(Busy());
  scheduler_.AdvanceBy(absl::Milliseconds(75));
  upstream_.Answer(Busy());
  scheduler_.AdvanceBy(absl::Milliseconds(150));  // the pause doubles
  ASSERT_EQ(upstream_.attempts(), 3);
  upstream_.Answer(absl::UnavailableError("busy, third time"));
  scheduler_.AdvanceBy(absl::Hours(1));
  EXPECT_EQ(upstream_.attempts(), 3);
  EXPECT_EQ(answers_, 1);
  EXPECT_EQ(outcome_.status().message(), "busy, third time");
  EXPECT_EQ(upstream_.started(), (std::vector<absl::Time>{T0(), T0() + absl::Milliseconds(75),
                                                          T0() + absl::Milliseconds(225)}));
}

TEST_F(RetryTest, OneAttemptMeansNoRetry) {
  Start(absl::InfiniteFuture(), {.max_attempts = 1, .jitter = HalfJitter});
  upstream_.Answer(Busy());
  EXPECT_EQ(answers_, 1);
  EXPECT_TRUE(absl::IsUnavailable(outcome_.status()));
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(RetryTest, AFailureThatIsNotRetryableIsAnsweredAtOnce) {
  Start(absl::InfiniteFuture());
  upstream_.Answer(absl::InvalidArgumentError("bad code"));
  EXPECT_EQ(answers_, 1);
  EXPECT_TRUE(absl::IsInvalidArgument(outcome_.status()));
  EXPECT_EQ(upstream_.attempts(), 1);
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(RetryTest, NoPauseEndsPastTheDeadline) {
  // The first pause (75 ms) fits before the deadline, the second (150 ms
  // more) would not: the caller gets the second failure when it happens.
  Start(T0() + absl::Milliseconds(200));
  upstream_.Answer(Busy());
  scheduler_.AdvanceBy(absl::Milliseconds(75));
  ASSERT_EQ(upstream_.attempts(), 2);
  upstream_.Answer(absl::UnavailableError("busy again"));
  EXPECT_EQ(answers_, 1);
  EXPECT_EQ(outcome_.status().message(), "busy again");
  EXPECT_EQ(clock_.Now(), T0() + absl::Milliseconds(75));
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(RetryTest, APauseEndingExactlyAtTheDeadlineIsNotTaken) {
  Start(T0() + absl::Milliseconds(75));
  upstream_.Answer(Busy());
  EXPECT_EQ(answers_, 1);
  EXPECT_EQ(upstream_.attempts(), 1);
}

TEST_F(RetryTest, ThePauseIsJitteredWithinTheUpperHalfOfTheNominalDelay) {
  // Nominal first pause 100 ms: a draw of 0 waits half of it, a draw near 1
  // nearly all of it.
  Start(absl::InfiniteFuture(), {.jitter = NoJitter});
  upstream_.Answer(Busy());
  scheduler_.AdvanceBy(absl::Milliseconds(50));
  ASSERT_EQ(upstream_.attempts(), 2);
  EXPECT_EQ(upstream_.started()[1], T0() + absl::Milliseconds(50));
  upstream_.Answer("value");

  Upstream late(clock_);
  const absl::Time start = clock_.Now();
  RetryIdempotent<std::string>(
      scheduler_, clock_, absl::InfiniteFuture(), {.jitter = FullJitter}, IsBusy, late.AsAttempt(),
      [](absl::StatusOr<std::string>) {}, nullptr);
  late.Answer(Busy());
  scheduler_.AdvanceBy(absl::Milliseconds(99));
  EXPECT_EQ(late.attempts(), 1);
  scheduler_.AdvanceBy(absl::Milliseconds(1));
  ASSERT_EQ(late.attempts(), 2);
  EXPECT_GT(late.started()[1] - start, absl::Milliseconds(99));
  EXPECT_LT(late.started()[1] - start, absl::Milliseconds(100));
  late.Answer("value");
}

TEST_F(RetryTest, PausesStopGrowingAtTheMaximum) {
  Start(absl::InfiniteFuture(), {.max_attempts = 5,
                                 .initial_backoff = absl::Milliseconds(100),
                                 .max_backoff = absl::Milliseconds(200),
                                 .jitter = NoJitter});
  // 50 ms (100 halved), then 100 ms, then capped at 200 ms halved: 100 ms.
  for (int pause_ms : {50, 100, 100, 100}) {
    upstream_.Answer(Busy());
    scheduler_.AdvanceBy(absl::Milliseconds(pause_ms));
  }
  ASSERT_EQ(upstream_.attempts(), 5);
  EXPECT_EQ(
      upstream_.started(),
      (std::vector<absl::Time>{T0(), T0() + absl::Milliseconds(50), T0() + absl::Milliseconds(150),
                               T0() + absl::Milliseconds(250), T0() + absl::Milliseconds(350)}));
  upstream_.Answer("value");
  EXPECT_EQ(answers_, 1);
}

TEST_F(RetryTest, ACallerGoneDuringAnAttemptIsNotRetried) {
  auto cancel = std::make_shared<CancelList>();
  Start(absl::InfiniteFuture(), {.jitter = HalfJitter}, cancel);
  cancel->Cancel();
  upstream_.Answer(Busy());
  EXPECT_EQ(answers_, 1);
  EXPECT_TRUE(absl::IsUnavailable(outcome_.status()));
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(RetryTest, ACallerGoneDuringAPauseHearsCancelledWhenItEnds) {
  auto cancel = std::make_shared<CancelList>();
  Start(absl::InfiniteFuture(), {.jitter = HalfJitter}, cancel);
  upstream_.Answer(Busy());
  cancel->Cancel();
  EXPECT_EQ(answers_, 0);
  scheduler_.AdvanceBy(absl::Milliseconds(75));
  EXPECT_EQ(answers_, 1);
  EXPECT_TRUE(absl::IsCancelled(outcome_.status()));
  EXPECT_EQ(upstream_.attempts(), 1);
}

TEST_F(RetryTest, AttemptsThatAnswerInlineAreRetriedWithoutRecursion) {
  int attempts = 0;
  RetryIdempotent<std::string>(
      scheduler_, clock_, absl::InfiniteFuture(), {.jitter = HalfJitter}, IsBusy,
      [&attempts](RetryCallback<std::string> done) {
        ++attempts;
        std::move(done)(Busy());
      },
      [this](absl::StatusOr<std::string> outcome) {
        ++answers_;
        outcome_ = std::move(outcome);
      },
      nullptr);
  EXPECT_EQ(attempts, 1);  // the pause runs on the scheduler, not inline
  scheduler_.AdvanceBy(absl::Seconds(1));
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(answers_, 1);
  EXPECT_TRUE(absl::IsUnavailable(outcome_.status()));
}

}  // namespace
}  // namespace wxgate
