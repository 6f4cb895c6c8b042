#ifndef WXGATE_TESTS_SUPPORT_FAKE_CALL_H_
#define WXGATE_TESTS_SUPPORT_FAKE_CALL_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/common/reply.h"
#include "server/common/request_scope.h"

namespace wxgate::test {

// The call a logic class serves, as a unit test drives it: a deadline and a
// caller that goes away when the test says so. Thread-safe.
class FakeRequestScope final : public RequestScope {
 public:
  explicit FakeRequestScope(absl::Time deadline = absl::InfiniteFuture()) : deadline_(deadline) {}

  absl::Time deadline() const override { return deadline_; }
  absl::string_view request_id() const override { return "fake-request-id"; }

  void OnCancel(absl::AnyInvocable<void() &&> fn) override {
    {
      absl::MutexLock lock(&mu_);
      if (!cancelled_) {
        hook_ = std::move(fn);
        return;
      }
    }
    std::move(fn)();
  }

  // Kept until the scope goes, as a call keeps them until it is gone.
  void Pin(std::shared_ptr<const void> keep) override {
    absl::MutexLock lock(&mu_);
    pins_.push_back(std::move(keep));
  }

  // The caller goes away: runs the hook, once.
  void Cancel() {
    absl::AnyInvocable<void() &&> hook;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      hook = std::move(hook_);
      hook_ = nullptr;
    }
    if (hook) std::move(hook)();
  }

 private:
  const absl::Time deadline_;
  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::AnyInvocable<void() &&> hook_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<const void>> pins_ ABSL_GUARDED_BY(mu_);
};

// Where a logic class's answer lands: Reply() hands out the reply, and the
// recorder keeps what it was called with and how often (the contract is
// exactly once). Thread-safe; the reply may outlive the recorder.
template <typename T>
class ReplyRecorder {
 public:
  Reply<T> AsReply() {
    return [state = state_](absl::StatusOr<T> result) {
      absl::MutexLock lock(&state->mu);
      ++state->calls;
      state->result = std::move(result);
    };
  }

  // How many times the reply ran.
  int calls() const {
    absl::MutexLock lock(&state_->mu);
    return state_->calls;
  }
  bool answered() const { return calls() > 0; }
  // The last answer; INTERNAL "no answer" while there is none.
  absl::StatusOr<T> result() const {
    absl::MutexLock lock(&state_->mu);
    return state_->result.value_or(absl::InternalError("no answer"));
  }
  absl::Status status() const { return result().status(); }

 private:
  struct State {
    absl::Mutex mu;
    int calls ABSL_GUARDED_BY(mu) = 0;
    std::optional<absl::StatusOr<T>> result ABSL_GUARDED_BY(mu);
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Whether `status` is an error that names `app` as the README promises: its
// message starts `app "<app>": ` and names it nowhere else, and its metadata
// says app=<app>.
inline ::testing::AssertionResult NamesAppOnce(const absl::Status& status, absl::string_view app) {
  const std::string prefix = absl::StrCat("app \"", app, "\": ");
  if (status.ok()) return ::testing::AssertionFailure() << "OK names no app";
  if (!absl::StartsWith(status.message(), prefix) ||
      absl::StrContains(status.message().substr(prefix.size()), absl::StrCat("\"", app, "\""))) {
    return ::testing::AssertionFailure()
           << "the message does not name " << app << " once: " << status.message();
  }
  for (const auto& [key, value] : GetErrorMetadata(status)) {
    if (key == "app") {
      if (value == app) return ::testing::AssertionSuccess();
      return ::testing::AssertionFailure() << "metadata app=" << value;
    }
  }
  return ::testing::AssertionFailure() << "no app in the metadata of " << status;
}

// The metadata value of `key`, or "" when the status has none.
inline std::string MetadataOf(const absl::Status& status, absl::string_view key) {
  for (const auto& [k, value] : GetErrorMetadata(status)) {
    if (k == key) return value;
  }
  return "";
}

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_FAKE_CALL_H_
