#ifndef WXGATE_TESTS_IDENTITY_IDENTITY_FIXTURE_H_
#define WXGATE_TESTS_IDENTITY_IDENTITY_FIXTURE_H_

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "server/cache/in_memory_session_store.h"
#include "server/identity/identity.h"
#include "tests/support/fake_call.h"
#include "tests/support/fake_upstream.h"

namespace wxgate::identity::testing {

using test::FakeRequestScope;
using test::ReplyRecorder;

// Canned upstream answers for the identity endpoints.
inline constexpr absl::string_view kSessionKey = "tiihtNczf5v6AKRyjwEUhQ==";
inline constexpr absl::string_view kWeComSessionKey = "kJtdi6RF+Dv67QkbLlPGjw==";

inline std::string SessionBody(absl::string_view openid, absl::string_view session_key,
                               absl::string_view unionid = "") {
  return absl::StrCat(R"({"openid":")", openid, R"(","session_key":")", session_key, "\"",
                      unionid.empty() ? "" : absl::StrCat(R"(,"unionid":")", unionid, "\""), "}");
}
inline std::string WeComSessionBody(absl::string_view user_id, absl::string_view session_key) {
  return absl::StrCat(R"({"errcode":0,"errmsg":"ok","corpid":")", test::kCorpId, R"(","userid":")",
                      user_id, R"(","session_key":")", session_key, R"("})");
}
inline std::string ContactPageBody(absl::string_view follow_user, absl::string_view next_cursor) {
  return absl::StrCat(
      R"({"errcode":0,"errmsg":"ok","external_contact":{"external_userid":"wmAlice",)",
      R"("name":"Alice","type":1,"gender":2,"unionid":"oU-alice"},"follow_user":[{"userid":")",
      follow_user, R"("}],"next_cursor":")", next_cursor, R"("})");
}

// Jitter fixed at 0.5: the first retry pause of an idempotent read is 75 ms.
inline double HalfJitter() { return 0.5; }
inline constexpr absl::Duration kFirstPause = absl::Milliseconds(75);

// A SessionStore that answers when the test says so, as a remote store
// would: after the call that asked has returned. Put can be made to fail.
class DeferredSessionStore final : public cache::SessionStore {
 public:
  explicit DeferredSessionStore(cache::SessionStore& inner) : inner_(inner) {}

  void Put(absl::string_view app, absl::string_view user, std::string session_key,
           PutCallback done) override {
    pending_.push_back([this, app = std::string(app), user = std::string(user),
                        key = std::move(session_key), done = std::move(done)]() mutable {
      if (!put_error_.ok()) return std::move(done)(put_error_);
      inner_.Put(app, user, std::move(key), std::move(done));
    });
  }
  void Get(absl::string_view app, absl::string_view user, GetCallback done) override {
    pending_.push_back(
        [this, app = std::string(app), user = std::string(user), done = std::move(done)]() mutable {
          inner_.Get(app, user, std::move(done));
        });
  }
  void Erase(absl::string_view app, absl::string_view user, PutCallback done) override {
    pending_.push_back(
        [this, app = std::string(app), user = std::string(user), done = std::move(done)]() mutable {
          inner_.Erase(app, user, std::move(done));
        });
  }

  void FailPuts(absl::Status error) { put_error_ = std::move(error); }
  size_t pending() const { return pending_.size(); }
  // Answers every operation asked so far.
  void Flush() {
    while (!pending_.empty()) {
      absl::AnyInvocable<void()&&> next = std::move(pending_.front());
      pending_.pop_front();
      std::move(next)();
    }
  }

 private:
  cache::SessionStore& inner_;
  absl::Status put_error_;
  std::deque<absl::AnyInvocable<void() &&>> pending_;
};

// Identity over a FakeUpstream, an in-memory session store and, for the
// tests that want them, a contact cache or a deferred store.
class IdentityTest : public ::testing::Test {
 protected:
  Identity Make(cache::SessionStore* sessions, ContactCache* contacts = nullptr) {
    return Identity(
        Identity::Deps{
            .apps = &up_.registry,
            .wechat = &up_.wechat,
            .wecom = &up_.wecom,
            .sessions = sessions,
            .scheduler = &up_.scheduler(),
            .clock = &up_.clock(),
            .contacts = contacts,
        },
        IdentityOptions{.retry = {.jitter = HalfJitter}, .max_contact_pages = 3});
  }

  // Starts `rpc` with `request`; the answer lands in the returned recorder
  // (upstream steps need up_.Settle()).
  template <typename Request, typename Response>
  ReplyRecorder<Response> Start(void (Identity::*rpc)(RequestScope&, const Request&,
                                                      Reply<Response>) const,
                                const Request& request, FakeRequestScope* scope = nullptr) {
    ReplyRecorder<Response> recorder;
    (identity_.*rpc)(scope != nullptr ? *scope : scope_, request, recorder.AsReply());
    return recorder;
  }

  ReplyRecorder<v1::Code2SessionResponse> Code2Session(absl::string_view app,
                                                       absl::string_view code) {
    v1::Code2SessionRequest request;
    request.set_app(std::string(app));
    request.set_js_code(std::string(code));
    return Start(&Identity::Code2Session, request);
  }

  ReplyRecorder<v1::GetExternalContactResponse> Contact(absl::string_view app,
                                                        absl::string_view external_userid,
                                                        FakeRequestScope* scope = nullptr) {
    v1::GetExternalContactRequest request;
    request.set_app(std::string(app));
    request.set_external_userid(std::string(external_userid));
    return Start(&Identity::GetExternalContact, request, scope);
  }

  // The session_key held for `user` of `app`, or "(none)".
  std::string HeldKey(absl::string_view app, absl::string_view user) {
    std::string held = "(none)";
    sessions_->Get(app, user, [&held](absl::StatusOr<std::optional<std::string>> key) {
      if (key.ok() && key->has_value()) held = **key;
    });
    return held;
  }

  test::FakeUpstream up_;
  FakeRequestScope scope_;  // the caller of calls started without a scope
  std::unique_ptr<cache::InMemorySessionStore> sessions_ =
      *cache::InMemorySessionStore::Create(up_.clock());
  Identity identity_ = Make(sessions_.get());
};

}  // namespace wxgate::identity::testing

#endif  // WXGATE_TESTS_IDENTITY_IDENTITY_FIXTURE_H_
