#ifndef WXGATE_TESTS_SUPPORT_FAKE_HTTP_CLIENT_H_
#define WXGATE_TESTS_SUPPORT_FAKE_HTTP_CLIENT_H_

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/common/reasons.h"
#include "server/upstream/http_client.h"

namespace wxgate::test {

// An upstream::HttpClient for unit tests of the logic above the typed
// clients: it answers canned bodies per endpoint (HttpRequest::endpoint, e.g.
// "cgi-bin/token") and records every request. Nothing completes until the
// test calls Deliver, on the test's thread, so a test steps through every
// asynchronous hop and the client keeps its contract that `done` never runs
// inline from Start. An endpoint can be held: its transfers stay in flight
// until Release or Cancel, which is how a test finds out whether a caller's
// going away cancels the transfer. Thread-safe.
class FakeHttpClient final : public upstream::HttpClient {
 public:
  using Result = absl::StatusOr<upstream::HttpResponse>;

  // Queues `result` for requests to `endpoint`. Each queued result answers
  // one request, in order, except the last, which keeps answering until
  // another is queued: Answer(busy) alone is "busy every time",
  // Answer(busy), Answer(ok) is "busy once, then ok".
  void Answer(absl::string_view endpoint, Result result) {
    absl::MutexLock lock(&mu_);
    std::deque<Canned>& queue = answers_[std::string(endpoint)];
    if (queue.size() == 1 && queue.front().used) queue.clear();
    queue.push_back(Canned{.result = std::move(result)});
  }
  // HTTP 200 with `body` (JSON, as WeChat answers).
  void AnswerJson(absl::string_view endpoint, std::string body) {
    Answer(endpoint, upstream::HttpResponse{.status = 200, .body = std::move(body)});
  }
  // {"errcode":<errcode>,"errmsg":"..."}: WeChat refusing the request.
  void AnswerErrcode(absl::string_view endpoint, int errcode) {
    AnswerJson(endpoint, absl::StrCat(R"({"errcode":)", errcode, R"(,"errmsg":"canned"})"));
  }

  // Answers every request to `endpoint` with `answer(request)` from now on,
  // ahead of canned answers: an upstream whose answer depends on what was
  // asked (a stable token's force_refresh). Runs under the client's lock:
  // it must not call the client.
  using Responder = std::function<Result(const upstream::HttpRequest&)>;
  void Respond(absl::string_view endpoint, Responder answer) {
    absl::MutexLock lock(&mu_);
    responders_[std::string(endpoint)] = std::move(answer);
  }

  // What the real client reports when a connection is refused or reset:
  // UNAVAILABLE UPSTREAM_UNAVAILABLE.
  static Result TransportFailure(absl::string_view endpoint) {
    return MakeError(absl::StatusCode::kUnavailable, reason::kUpstreamUnavailable,
                     absl::StrCat(endpoint, ": connection reset"), {{"endpoint", endpoint}});
  }

  // Transfers to `endpoint` stay in flight, from now on, until Release.
  void Hold(absl::string_view endpoint) {
    absl::MutexLock lock(&mu_);
    held_.insert(std::string(endpoint));
  }
  // Ends the hold; the held transfers complete at the next Deliver.
  void Release(absl::string_view endpoint) {
    absl::MutexLock lock(&mu_);
    held_.erase(std::string(endpoint));
  }

  TransferId Start(upstream::HttpRequest request, upstream::HttpCallback done) override {
    absl::MutexLock lock(&mu_);
    const TransferId id = next_id_++;
    auto responder = responders_.find(request.endpoint);
    Result result = responder != responders_.end() ? responder->second(request)
                                                   : NextAnswerLocked(request.endpoint);
    requests_.push_back(request);
    in_flight_.push_back(Transfer{.id = id,
                                  .endpoint = request.endpoint,
                                  .result = std::move(result),
                                  .done = std::move(done)});
    return id;
  }

  // Recorded whether or not the transfer was still running; a running one
  // completes CANCELLED at the next Deliver, held or not.
  void Cancel(TransferId id) override {
    absl::MutexLock lock(&mu_);
    for (Transfer& transfer : in_flight_) {
      if (transfer.id == id) transfer.cancelled = true;
    }
  }

  // Cancels every transfer in flight: teardown, while what they report to lives.
  void CancelAll() {
    absl::MutexLock lock(&mu_);
    for (Transfer& transfer : in_flight_) transfer.cancelled = true;
  }

  // Completes, on this thread, every transfer that is not held (cancelled
  // ones with CANCELLED), including those the completions start. How many.
  int Deliver() {
    int delivered = 0;
    while (true) {
      Transfer transfer;
      {
        absl::MutexLock lock(&mu_);
        auto ready = in_flight_.begin();
        while (ready != in_flight_.end() && !ready->cancelled && held_.contains(ready->endpoint)) {
          ++ready;
        }
        if (ready == in_flight_.end()) return delivered;
        transfer = std::move(*ready);
        in_flight_.erase(ready);
        if (transfer.cancelled) {
          transfer.result = MakeError(absl::StatusCode::kCancelled, reason::kCancelled,
                                      absl::StrCat(transfer.endpoint, ": cancelled"),
                                      {{"endpoint", transfer.endpoint}});
          ++cancelled_transfers_;
        }
      }
      std::move(transfer.done)(std::move(transfer.result));
      ++delivered;
    }
  }

  // Every request started, in order.
  std::vector<upstream::HttpRequest> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  int Count(absl::string_view endpoint) const {
    absl::MutexLock lock(&mu_);
    int n = 0;
    for (const upstream::HttpRequest& request : requests_) n += request.endpoint == endpoint;
    return n;
  }
  // The last request to `endpoint`; fails the test when there was none.
  upstream::HttpRequest Last(absl::string_view endpoint) const {
    absl::MutexLock lock(&mu_);
    // (No std::views::reverse: clang 14 cannot compile libstdc++ 12's ranges.)
    auto last =
        std::find_if(requests_.rbegin(), requests_.rend(),
                     [&](const upstream::HttpRequest& r) { return r.endpoint == endpoint; });
    if (last != requests_.rend()) return *last;
    ADD_FAILURE() << "no request to " << endpoint;
    return {};
  }
  size_t in_flight() const {
    absl::MutexLock lock(&mu_);
    return in_flight_.size();
  }
  // Transfers that were still running when cancelled (and so ended CANCELLED).
  int cancelled_transfers() const {
    absl::MutexLock lock(&mu_);
    return cancelled_transfers_;
  }

 private:
  struct Canned {
    Result result;
    bool used = false;
  };
  struct Transfer {
    TransferId id = 0;
    std::string endpoint;
    Result result;
    upstream::HttpCallback done;
    bool cancelled = false;
  };

  Result NextAnswerLocked(const std::string& endpoint) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = answers_.find(endpoint);
    if (it == answers_.end() || it->second.empty()) {
      ADD_FAILURE() << "no canned answer for " << endpoint;
      return upstream::HttpResponse{.status = 404, .body = "no canned answer"};
    }
    Canned& next = it->second.front();
    next.used = true;
    Result result = next.result;
    if (it->second.size() > 1) it->second.pop_front();
    return result;
  }

  mutable absl::Mutex mu_;
  TransferId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::string, std::deque<Canned>> answers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Responder> responders_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> held_ ABSL_GUARDED_BY(mu_);
  std::deque<Transfer> in_flight_ ABSL_GUARDED_BY(mu_);
  std::vector<upstream::HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
  int cancelled_transfers_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_FAKE_HTTP_CLIENT_H_
