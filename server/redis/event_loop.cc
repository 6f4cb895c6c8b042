#include "server/redis/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/thread_name.h"

namespace wxgate::redis {

namespace {

// Upper bound on one epoll_wait; timers and the eventfd cut it short.
constexpr absl::Duration kMaxWait = absl::Seconds(1);

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  std::unique_ptr<EventLoop> loop(new EventLoop());
  loop->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  loop->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (loop->epoll_fd_ < 0 || loop->wake_fd_ < 0) {
    return absl::InternalError(absl::StrCat("redis event loop: ", std::strerror(errno)));
  }
  epoll_event wake = {};
  wake.events = EPOLLIN;
  wake.data.fd = loop->wake_fd_;
  if (epoll_ctl(loop->epoll_fd_, EPOLL_CTL_ADD, loop->wake_fd_, &wake) != 0) {
    return absl::InternalError(absl::StrCat("redis event loop: ", std::strerror(errno)));
  }
  loop->thread_ = std::thread([raw = loop.get()] { raw->Run(); });
  return loop;
}

EventLoop::~EventLoop() {
  Stop();
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void EventLoop::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
}

void EventLoop::Post(Task task) {
  {
    absl::MutexLock lock(&mu_);
    posted_.push_back(std::move(task));
  }
  Wake();
}

EventLoop::TimerId EventLoop::RunAt(absl::Time at, Task task) {
  TimerId id;
  bool earliest;
  {
    absl::MutexLock lock(&mu_);
    id = next_timer_++;
    timers_.emplace(std::make_pair(at, id), std::move(task));
    timer_times_.emplace(id, at);
    earliest = timers_.begin()->first.second == id;
  }
  if (earliest && !InLoopThread()) Wake();
  return id;
}

void EventLoop::Cancel(TimerId id) {
  Task dropped;  // destroyed after the lock
  absl::MutexLock lock(&mu_);
  auto it = timer_times_.find(id);
  if (it == timer_times_.end()) return;
  auto timer = timers_.find(std::make_pair(it->second, id));
  dropped = std::move(timer->second);
  timers_.erase(timer);
  timer_times_.erase(it);
}

void EventLoop::Watch(int fd, uint32_t events, FdCallback on_ready) {
  epoll_event event = {};
  event.events = events;
  event.data.fd = fd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  watched_[fd] = std::move(on_ready);
}

void EventLoop::Modify(int fd, uint32_t events) {
  epoll_event event = {};
  event.events = events;
  event.data.fd = fd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
}

void EventLoop::Unwatch(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  watched_.erase(fd);
}

void EventLoop::Wake() {
  const uint64_t one = 1;
  // A full counter already means "wake up"; nothing to handle.
  [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof(one));
}

std::vector<EventLoop::Task> EventLoop::TakePosted() {
  std::vector<Task> posted;
  absl::MutexLock lock(&mu_);
  posted.swap(posted_);
  return posted;
}

EventLoop::Task EventLoop::TakeDueTimer(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (timers_.empty() || timers_.begin()->first.first > now) return nullptr;
  auto first = timers_.begin();
  timer_times_.erase(first->first.second);
  Task task = std::move(first->second);
  timers_.erase(first);
  return task;
}

void EventLoop::Run() {
  NameThisThread("wxgate-redis");
  constexpr int kMaxEvents = 16;
  epoll_event events[kMaxEvents];
  for (;;) {
    std::vector<Task> posted = TakePosted();
    for (Task& task : posted) std::move(task)();
    posted.clear();
    // Timers due now, each taken as it runs (TakeDueTimer); ones they add for
    // now wait for the next round.
    const absl::Time now = absl::Now();
    while (Task timer = TakeDueTimer(now)) std::move(timer)();
    absl::Time next_timer = absl::InfiniteFuture();
    {
      absl::MutexLock lock(&mu_);
      // Tasks posted by the ones just run go round again without waiting,
      // while stopping too: they are what shutting down posts.
      if (!posted_.empty()) continue;
      if (stopping_) return;
      if (!timers_.empty()) next_timer = timers_.begin()->first.first;
    }
    const absl::Duration wait =
        std::clamp(next_timer - absl::Now(), absl::ZeroDuration(), kMaxWait);
    const int ready = epoll_wait(
        epoll_fd_, events, kMaxEvents,
        static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1)))));
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count;
        [[maybe_unused]] ssize_t read_bytes = read(wake_fd_, &count, sizeof(count));
        continue;
      }
      // A callback may unwatch other descriptors of this round: look each up.
      auto it = watched_.find(fd);
      if (it == watched_.end()) continue;
      FdCallback on_ready = it->second;
      on_ready(events[i].events);
    }
  }
}

}  // namespace wxgate::redis
