#ifndef WXGATE_TESTS_EMULATOR_THREAD_POOL_H_
#define WXGATE_TESTS_EMULATOR_THREAD_POOL_H_

#include <httplib.h>

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace wxgate::emulator {

// httplib's task queue, which gets one task per accepted connection and
// keeps a thread on it for as long as the connection lives (keep-alive
// included). A fixed pool would leave connections beyond its size waiting
// in the queue, their TLS handshake unanswered, so this pool starts with
// `initial` threads and grows on demand up to `max`.
//
// Thread-safe. `on_task` runs on the worker thread before each task.
class ElasticThreadPool : public httplib::TaskQueue {
 public:
  ElasticThreadPool(size_t initial, size_t max, std::function<void()> on_enqueue,
                    std::function<void()> on_task);
  ~ElasticThreadPool() override;

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  void SpawnLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Work();

  const size_t max_;
  const std::function<void()> on_enqueue_;
  const std::function<void()> on_task_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  size_t idle_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace wxgate::emulator

#endif  // WXGATE_TESTS_EMULATOR_THREAD_POOL_H_
