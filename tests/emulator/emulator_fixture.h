#ifndef WXGATE_TESTS_EMULATOR_EMULATOR_FIXTURE_H_
#define WXGATE_TESTS_EMULATOR_EMULATOR_FIXTURE_H_

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/emulator_process.h"
#include "tests/support/json.h"

namespace wxgate::test {

// A fresh emulator per test, and terse calls for the emulator's own tests.
class EmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EmulatorProcess>> emulator = EmulatorProcess::Start(Options());
    ASSERT_TRUE(emulator.ok()) << emulator.status();
    emulator_ = *std::move(emulator);
  }

  virtual EmulatorOptions Options() { return {}; }

  ControlClient& control() { return emulator_->control(); }

  // A call expected to answer 200 with JSON; a failure is reported and an
  // empty document returned.
  JsonDoc Post(absl::string_view path, absl::string_view body) {
    absl::StatusOr<JsonDoc> doc = control().PostJson(path, body);
    EXPECT_TRUE(doc.ok()) << "POST " << path << ": " << doc.status();
    return doc.ok() ? *std::move(doc) : JsonDoc();
  }
  JsonDoc Get(absl::string_view path) {
    absl::StatusOr<JsonDoc> doc = control().GetJson(path);
    EXPECT_TRUE(doc.ok()) << "GET " << path << ": " << doc.status();
    return doc.ok() ? *std::move(doc) : JsonDoc();
  }
  // Registers a WeChat app (/_emu/apps) of `kind`, e.g. "official_account".
  void AddWeChatApp(absl::string_view kind, absl::string_view app_id, absl::string_view secret,
                    absl::string_view open_platform = "") {
    Post("/_emu/apps",
         absl::StrCat(R"({"kind":")", kind, R"(","app_id":")", app_id, R"(","secret":")", secret,
                      R"(","open_platform":")", open_platform, R"("})"));
  }
  // The HTTP status of a control call expected to fail.
  long PostStatus(absl::string_view path, absl::string_view body) {
    absl::StatusOr<HttpReply> reply = control().Post(path, body);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->status : 0;
  }

  // An upstream (WeChat or WeCom) call: errors too come with HTTP 200.
  JsonDoc Upstream(absl::string_view path_and_query) {
    return UpstreamReply(control().Get(path_and_query));
  }
  JsonDoc UpstreamPost(absl::string_view path_and_query, absl::string_view body) {
    return UpstreamReply(control().Post(path_and_query, body));
  }
  JsonDoc UpstreamReply(absl::StatusOr<HttpReply> reply) {
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return JsonDoc();
    EXPECT_EQ(reply->status, 200) << reply->body;
    return std::move(reply->json);
  }

  std::unique_ptr<EmulatorProcess> emulator_;
};

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_EMULATOR_EMULATOR_FIXTURE_H_
