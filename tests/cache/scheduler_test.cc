#include "server/cache/scheduler.h"

#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"

namespace wxgate::cache {
namespace {

using ::testing::ElementsAre;

TEST(SimulatedSchedulerTest, RunsTasksInTimeOrderAtTheirTime) {
  SimulatedClock clock;
  SimulatedScheduler scheduler(clock);
  const absl::Time t0 = clock.Now();
  std::vector<std::string> log;
  scheduler.RunAt(t0 + absl::Seconds(2),
                  [&] { log.push_back("b@" + absl::FormatDuration(clock.Now() - t0)); });
  scheduler.RunAt(t0 + absl::Seconds(1),
                  [&] { log.push_back("a@" + absl::FormatDuration(clock.Now() - t0)); });
  scheduler.RunAt(t0 + absl::Seconds(2),
                  [&] { log.push_back("c@" + absl::FormatDuration(clock.Now() - t0)); });
  EXPECT_EQ(scheduler.RunDue(), 0);
  scheduler.AdvanceBy(absl::Seconds(5));
  EXPECT_THAT(log, ElementsAre("a@1s", "b@2s", "c@2s"));
  EXPECT_EQ(clock.Now(), t0 + absl::Seconds(5));
  EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(SimulatedSchedulerTest, NeverRunsInlineAndCancelDrops) {
  SimulatedClock clock;
  SimulatedScheduler scheduler(clock);
  bool ran = false;
  const Scheduler::TaskId id = scheduler.RunAt(absl::InfinitePast(), [&] { ran = true; });
  EXPECT_FALSE(ran);
  scheduler.Cancel(id);
  scheduler.Cancel(id);  // twice is fine
  EXPECT_EQ(scheduler.RunDue(), 0);
  EXPECT_FALSE(ran);
}

TEST(SimulatedSchedulerTest, TasksScheduledByTasksRunWhenDue) {
  SimulatedClock clock;
  SimulatedScheduler scheduler(clock);
  int runs = 0;
  std::function<void()> again = [&] {
    if (++runs < 3) scheduler.RunAt(clock.Now() + absl::Seconds(1), again);
  };
  scheduler.RunAt(clock.Now(), again);
  scheduler.AdvanceBy(absl::Seconds(10));
  EXPECT_EQ(runs, 3);
}

TEST(ThreadSchedulerTest, RunsDueTaskOnItsOwnThread) {
  ThreadScheduler scheduler;
  absl::Notification ran;
  std::thread::id where;
  scheduler.RunAt(absl::InfinitePast(), [&] {
    where = std::this_thread::get_id();
    ran.Notify();
  });
  ran.WaitForNotification();
  EXPECT_NE(where, std::this_thread::get_id());
}

TEST(ThreadSchedulerTest, CancelledAndFarFutureTasksNeverRun) {
  bool ran = false;
  {
    ThreadScheduler scheduler;
    const Scheduler::TaskId id = scheduler.RunAt(absl::InfiniteFuture(), [&] { ran = true; });
    scheduler.Cancel(id);
    scheduler.RunAt(absl::Now() + absl::Hours(1), [&] { ran = true; });
    // An earlier task still runs ahead of the far one.
    absl::Notification first;
    scheduler.RunAt(absl::InfinitePast(), [&] { first.Notify(); });
    first.WaitForNotification();
  }
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace wxgate::cache
