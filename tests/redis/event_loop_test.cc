#include "server/redis/event_loop.h"

#include <memory>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace wxgate::redis {
namespace {

// A timer never runs after a task has cancelled it, even when both were due
// in the same round. (RedisClient's destructor posts the task that frees its
// connections, whose destructors cancel their reconnect timers; a reconnect
// due in the same round once ran after it, on a freed connection.)
TEST(EventLoopTest, ATimerNeverRunsAfterItsCancellation) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok()) << loop.status();
  absl::Notification busy;
  absl::Notification release;
  (*loop)->Post([&] {
    busy.Notify();
    release.WaitForNotification();
  });
  busy.WaitForNotification();
  // While the loop is busy: a timer already due, then the task cancelling it.
  // Both touch these on the loop thread only.
  bool cancelled = false;
  bool ran_after_cancel = false;
  const EventLoop::TimerId timer =
      (*loop)->RunAt(absl::Now() - absl::Seconds(1), [&] { ran_after_cancel = cancelled; });
  (*loop)->Post([&, timer] {
    (*loop)->Cancel(timer);
    cancelled = true;
  });
  release.Notify();
  // Everything due by now has run by the time a task posted now runs twice
  // over (a round runs what was posted, then what is due).
  absl::Notification drained;
  (*loop)->Post([&] { (*loop)->Post([&] { drained.Notify(); }); });
  drained.WaitForNotification();
  EXPECT_TRUE(cancelled);
  EXPECT_FALSE(ran_after_cancel);
  (*loop)->Stop();
}

TEST(EventLoopTest, DueTimersAndPostedTasksAllRun) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok()) << loop.status();
  absl::Notification timer_ran;
  absl::Notification task_ran;
  (*loop)->RunAt(absl::Now(), [&] { timer_ran.Notify(); });
  (*loop)->Post([&] { task_ran.Notify(); });
  timer_ran.WaitForNotification();
  task_ran.WaitForNotification();
  (*loop)->Stop();
}

}  // namespace
}  // namespace wxgate::redis
