#include "server/cache/scheduler.h"

#include <utility>

#include "server/common/thread_name.h"

namespace wxgate::cache {

Scheduler::TaskId SimulatedScheduler::RunAt(absl::Time when, absl::AnyInvocable<void() &&> task) {
  absl::MutexLock lock(&mu_);
  const TaskId id = next_id_++;
  tasks_.emplace(Key{when, id}, std::move(task));
  when_.emplace(id, when);
  return id;
}

void SimulatedScheduler::Cancel(TaskId id) {
  absl::AnyInvocable<void() &&> dropped;  // destroyed after the lock is released
  absl::MutexLock lock(&mu_);
  auto it = when_.find(id);
  if (it == when_.end()) return;
  auto task = tasks_.find(Key{it->second, id});
  dropped = std::move(task->second);
  tasks_.erase(task);
  when_.erase(it);
}

int SimulatedScheduler::RunDue() {
  int ran = 0;
  for (;;) {
    const absl::Time now = clock_.Now();
    absl::AnyInvocable<void() &&> task;
    {
      absl::MutexLock lock(&mu_);
      if (tasks_.empty() || tasks_.begin()->first.first > now) return ran;
      auto first = tasks_.begin();
      task = std::move(first->second);
      when_.erase(first->first.second);
      tasks_.erase(first);
    }
    std::move(task)();
    ++ran;
  }
}

void SimulatedScheduler::AdvanceBy(absl::Duration d) {
  const absl::Time target = clock_.Now() + d;
  for (;;) {
    RunDue();
    absl::Time next;
    {
      absl::MutexLock lock(&mu_);
      if (tasks_.empty() || tasks_.begin()->first.first > target) break;
      next = tasks_.begin()->first.first;
    }
    if (next > clock_.Now()) clock_.Set(next);
  }
  clock_.Set(target);
  RunDue();
}

size_t SimulatedScheduler::pending() const {
  absl::MutexLock lock(&mu_);
  return tasks_.size();
}

ThreadScheduler::ThreadScheduler() : thread_([this] { Loop(); }) {}

ThreadScheduler::~ThreadScheduler() { Stop(); }

void ThreadScheduler::Stop() {
  std::map<Key, absl::AnyInvocable<void() &&>> dropped;  // destroyed outside the lock
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_.Signal();
  }
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&mu_);
  dropped.swap(tasks_);
  when_.clear();
}

Scheduler::TaskId ThreadScheduler::RunAt(absl::Time when, absl::AnyInvocable<void() &&> task) {
  absl::MutexLock lock(&mu_);
  const TaskId id = next_id_++;
  if (stopping_) {
    mu_.Unlock();
    task = nullptr;  // its captures are released outside the lock
    mu_.Lock();
    return id;
  }
  const bool earliest = tasks_.empty() || Key{when, id} < tasks_.begin()->first;
  tasks_.emplace(Key{when, id}, std::move(task));
  when_.emplace(id, when);
  if (earliest) wake_.Signal();
  return id;
}

void ThreadScheduler::Cancel(TaskId id) {
  absl::AnyInvocable<void() &&> dropped;  // destroyed after the lock is released
  absl::MutexLock lock(&mu_);
  auto it = when_.find(id);
  if (it == when_.end()) return;
  auto task = tasks_.find(Key{it->second, id});
  dropped = std::move(task->second);
  tasks_.erase(task);
  when_.erase(it);
}

void ThreadScheduler::Loop() {
  NameThisThread("wxgate-timers");
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (tasks_.empty()) {
      wake_.Wait(&mu_);
      continue;
    }
    auto first = tasks_.begin();
    if (first->first.first > absl::Now()) {
      wake_.WaitWithDeadline(&mu_, first->first.first);
      continue;
    }
    absl::AnyInvocable<void()&&> task = std::move(first->second);
    when_.erase(first->first.second);
    tasks_.erase(first);
    mu_.Unlock();
    std::move(task)();
    task = nullptr;  // a task's captures are released outside the lock too
    mu_.Lock();
  }
}

}  // namespace wxgate::cache
