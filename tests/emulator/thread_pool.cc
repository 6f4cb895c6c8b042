#include "tests/emulator/thread_pool.h"

#include <utility>

namespace wxgate::emulator {

ElasticThreadPool::ElasticThreadPool(size_t initial, size_t max, std::function<void()> on_enqueue,
                                     std::function<void()> on_task)
    : max_(std::max(initial, max)),
      on_enqueue_(std::move(on_enqueue)),
      on_task_(std::move(on_task)) {
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < initial; ++i) SpawnLocked();
}

ElasticThreadPool::~ElasticThreadPool() { shutdown(); }

void ElasticThreadPool::SpawnLocked() {
  ++idle_;
  threads_.emplace_back([this] { Work(); });
}

void ElasticThreadPool::enqueue(std::function<void()> fn) {
  if (on_enqueue_) on_enqueue_();
  absl::MutexLock lock(&mu_);
  jobs_.push_back(std::move(fn));
  if (jobs_.size() > idle_ && threads_.size() < max_) SpawnLocked();
}

void ElasticThreadPool::shutdown() {
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
    threads.swap(threads_);
  }
  for (std::thread& thread : threads) thread.join();
}

void ElasticThreadPool::Work() {
  while (true) {
    std::function<void()> job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ElasticThreadPool* pool) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool->mu_) {
            return !pool->jobs_.empty() || pool->shutdown_;
          },
          this));
      // Queued connections are still served during shutdown; they end fast
      // because their sockets are shut down.
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      --idle_;
    }
    if (on_task_) on_task_();
    job();
    absl::MutexLock lock(&mu_);
    ++idle_;
  }
}

}  // namespace wxgate::emulator
