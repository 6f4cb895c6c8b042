#ifndef WXGATE_SERVER_REDIS_EVENT_LOOP_H_
#define WXGATE_SERVER_REDIS_EVENT_LOOP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace wxgate::redis {

// One thread that waits in epoll on a few file descriptors (the Redis
// connections), runs timers on the real clock, and runs tasks posted from any
// thread. The Redis client's connections live on it, as the curl handles live
// on the curl thread: nothing else touches them.
//
// Thread contract: Post, RunAt and Cancel may be called from any thread,
// including the loop's own; Watch, Modify and Unwatch only on the loop thread.
// Everything given to the loop runs on the loop thread, never under a lock of
// the loop's. The destructor runs the posted tasks that remain (and those
// they post), drops pending timers unrun, and joins the thread.
class EventLoop {
 public:
  using Task = absl::AnyInvocable<void() &&>;
  using TimerId = uint64_t;
  // epoll event bits (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP) that are ready.
  using FdCallback = std::function<void(uint32_t events)>;

  static absl::StatusOr<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs the posted tasks that remain (and those they post), drops pending
  // timers unrun, and joins the thread. Idempotent; not from the loop thread.
  // Post may still be called meanwhile and afterwards (from the loop thread
  // while it drains); after the join, posted tasks are dropped unrun.
  void Stop();

  void Post(Task task);
  // Runs `task` at `at` (at once if past). Ids start at 1.
  TimerId RunAt(absl::Time at, Task task);
  // Drops a timer that has not run yet; a no-op otherwise.
  void Cancel(TimerId id);

  bool InLoopThread() const { return std::this_thread::get_id() == thread_.get_id(); }

  // Loop thread only. `events` is EPOLLIN, EPOLLOUT or both (0: none yet).
  void Watch(int fd, uint32_t events, FdCallback on_ready);
  void Modify(int fd, uint32_t events);
  void Unwatch(int fd);

 private:
  EventLoop() = default;
  void Wake();
  void Run();
  // Moves the posted tasks out of the locked state.
  std::vector<Task> TakePosted();
  // The earliest timer due at `now`, taken out of the locked state; empty
  // when none is. One at a time: a task may cancel a timer due in the same
  // round (a connection freed cancels its reconnect), so a timer is taken
  // only when it is about to run.
  Task TakeDueTimer(absl::Time now);

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Task> posted_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<absl::Time, TimerId>, Task> timers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<TimerId, absl::Time> timer_times_ ABSL_GUARDED_BY(mu_);
  TimerId next_timer_ ABSL_GUARDED_BY(mu_) = 1;

  // Loop thread only.
  absl::flat_hash_map<int, FdCallback> watched_;
};

}  // namespace wxgate::redis

#endif  // WXGATE_SERVER_REDIS_EVENT_LOOP_H_
