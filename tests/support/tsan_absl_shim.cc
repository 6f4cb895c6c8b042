// Built into every executable (tests, wxgate, the emulator, the clients) only
// under WXGATE_SANITIZE=thread: see wxgate_tsan_hooks in CMakeLists.txt.
//
// Debian's libabsl_synchronization is not built with ThreadSanitizer, so TSan
// cannot see absl::Mutex, CondVar or Notification synchronise: every handoff
// through them (the client's submit queue, the test support's Subprocess,
// the tests' collectors) shows up as a data race, and a TSan run says
// nothing about real ones. This file interposes their exported entry points
// (an executable's definitions win over a shared library's), calls the real
// ones through dlsym(RTLD_NEXT), and tells TSan about the acquire and release
// each performs. It knows the "debian3" inline namespace of that build; with
// an Abseil built under TSan it is not needed at all.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace {

template <typename F>
F Real(const char* mangled) {
  void* symbol = dlsym(RTLD_NEXT, mangled);
  if (symbol == nullptr) {
    std::fprintf(stderr, "tsan_absl_shim: %s not found\n", mangled);
    std::abort();
  }
  return reinterpret_cast<F>(symbol);
}

void Acquire(const void* p) { __tsan_acquire(const_cast<void*>(p)); }
void Release(const void* p) { __tsan_release(const_cast<void*>(p)); }

// A Condition is evaluated with the mutex held, by the waiter inside Await
// or LockWhen, or by whichever thread unlocks: each evaluation synchronises
// like a critical section of its own. The waiter builds this on its stack and
// hands it over through Abseil's (invisible) wait queue, so it releases it
// once built and each evaluation acquires it before reading it.
struct SyncedCondition {
  const void* mu;
  const absl::Condition* cond;

  static bool Eval(void* arg) {
    Acquire(arg);
    const auto* self = static_cast<const SyncedCondition*>(arg);
    Acquire(self->mu);
    const bool met = self->cond->Eval();
    Release(self->mu);
    return met;
  }
};

}  // namespace

#define WXGATE_REAL(type, mangled) static const auto real = Real<type>(mangled)
#define WXGATE_SYNCED(cond)                  \
  SyncedCondition synced_state{this, &cond}; \
  Release(&synced_state);                    \
  const Condition synced(&SyncedCondition::Eval, &synced_state)

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  WXGATE_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  real(this);
  Acquire(this);
}

void Mutex::Unlock() {
  WXGATE_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  Release(this);
  real(this);
}

bool Mutex::TryLock() {
  WXGATE_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::ReaderLock() {
  WXGATE_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  real(this);
  Acquire(this);
}

void Mutex::ReaderUnlock() {
  WXGATE_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  Release(this);
  real(this);
}

bool Mutex::ReaderTryLock() {
  WXGATE_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  const bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::LockWhen(const Condition& cond) {
  WXGATE_REAL(void (*)(Mutex*, const Condition&),
              "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  WXGATE_SYNCED(cond);
  real(this, synced);
  Acquire(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  WXGATE_REAL(bool (*)(Mutex*, const Condition&, Duration),
              "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  WXGATE_SYNCED(cond);
  const bool met = real(this, synced, timeout);
  Acquire(this);  // held either way
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  WXGATE_REAL(bool (*)(Mutex*, const Condition&, Time),
              "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  WXGATE_SYNCED(cond);
  const bool met = real(this, synced, deadline);
  Acquire(this);
  return met;
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  WXGATE_REAL(void (*)(Mutex*, const Condition&),
              "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  WXGATE_SYNCED(cond);
  real(this, synced);
  Acquire(this);
}

// The waits release the mutex inside and hold it again on return.
void Mutex::Await(const Condition& cond) {
  WXGATE_REAL(void (*)(Mutex*, const Condition&), "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  WXGATE_SYNCED(cond);
  Release(this);
  real(this, synced);
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  WXGATE_REAL(bool (*)(Mutex*, const Condition&, Duration),
              "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  WXGATE_SYNCED(cond);
  Release(this);
  const bool met = real(this, synced, timeout);
  Acquire(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  WXGATE_REAL(bool (*)(Mutex*, const Condition&, Time),
              "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  WXGATE_SYNCED(cond);
  Release(this);
  const bool met = real(this, synced, deadline);
  Acquire(this);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  WXGATE_REAL(void (*)(CondVar*, Mutex*), "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  Release(mu);
  real(this, mu);
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  WXGATE_REAL(bool (*)(CondVar*, Mutex*, Duration),
              "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Release(mu);
  const bool timed_out = real(this, mu, timeout);
  Acquire(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  WXGATE_REAL(bool (*)(CondVar*, Mutex*, Time),
              "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Release(mu);
  const bool timed_out = real(this, mu, deadline);
  Acquire(mu);
  return timed_out;
}

void Notification::Notify() {
  WXGATE_REAL(void (*)(Notification*), "_ZN4absl7debian312Notification6NotifyEv");
  Release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  WXGATE_REAL(void (*)(const Notification*),
              "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  real(this);
  Acquire(this);
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  WXGATE_REAL(bool (*)(const Notification*, Duration),
              "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool notified = real(this, timeout);
  if (notified) Acquire(this);
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  WXGATE_REAL(bool (*)(const Notification*, Time),
              "_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  const bool notified = real(this, deadline);
  if (notified) Acquire(this);
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
