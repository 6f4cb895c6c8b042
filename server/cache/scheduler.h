#ifndef WXGATE_SERVER_CACHE_SCHEDULER_H_
#define WXGATE_SERVER_CACHE_SCHEDULER_H_

#include <cstdint>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/clock.h"

namespace wxgate::cache {

// Runs tasks at a given time: waiter deadlines, the fetch watchdog and lock
// polling of the token cache. Injected, so tests drive it with SimulatedClock.
//
// Thread contract: RunAt and Cancel are thread-safe and never run a task
// inline, so callers may call them while holding their own locks (a task must
// then take those locks itself, never expect them held).
class Scheduler {
 public:
  using TaskId = uint64_t;  // never 0

  virtual ~Scheduler() = default;

  // Runs `task` once, at or after `when`, on the scheduler's thread.
  virtual TaskId RunAt(absl::Time when, absl::AnyInvocable<void() &&> task) = 0;

  // Drops the task if it has not started; a no-op once it has started or run.
  // Does not wait for a running task, so a task must tolerate running after
  // its owner tried to cancel it (owners check a task id under their lock).
  virtual void Cancel(TaskId id) = 0;
};

// Tasks run only when the test says so, on the test's thread, against a
// SimulatedClock. Thread-safe.
class SimulatedScheduler final : public Scheduler {
 public:
  explicit SimulatedScheduler(SimulatedClock& clock) : clock_(clock) {}

  TaskId RunAt(absl::Time when, absl::AnyInvocable<void() &&> task) override;
  void Cancel(TaskId id) override;

  // Runs every task due at the clock's current time, earliest first,
  // including tasks those tasks schedule for no later than now. Returns how
  // many ran.
  int RunDue();

  // Moves the clock forward by `d`, stopping at each pending task's time to
  // run it, so tasks see the time they were scheduled for.
  void AdvanceBy(absl::Duration d);

  size_t pending() const;

 private:
  // Ordered by (time, id): ties run in scheduling order.
  using Key = std::pair<absl::Time, TaskId>;

  SimulatedClock& clock_;
  mutable absl::Mutex mu_;
  TaskId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<Key, absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<TaskId, absl::Time> when_ ABSL_GUARDED_BY(mu_);
};

// One thread running tasks at their (real) time. Tasks must be short and must
// not block: they share the thread. Pending tasks are dropped at Stop (or
// destruction), which waits for a running task to finish; do not call it from
// a task.
class ThreadScheduler final : public Scheduler {
 public:
  ThreadScheduler();
  ~ThreadScheduler() override;

  // Ends the thread and drops pending tasks. Afterwards RunAt drops its task
  // and Cancel does nothing, so owners of scheduled tasks (the token cache)
  // can be torn down after it without racing a task.
  void Stop();
  ThreadScheduler(const ThreadScheduler&) = delete;
  ThreadScheduler& operator=(const ThreadScheduler&) = delete;

  TaskId RunAt(absl::Time when, absl::AnyInvocable<void() &&> task) override;
  void Cancel(TaskId id) override;

 private:
  using Key = std::pair<absl::Time, TaskId>;

  void Loop();

  absl::Mutex mu_;
  absl::CondVar wake_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  TaskId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<Key, absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<TaskId, absl::Time> when_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace wxgate::cache

#endif  // WXGATE_SERVER_CACHE_SCHEDULER_H_
