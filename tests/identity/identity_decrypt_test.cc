// DecryptUserData with the session_key a code exchange left behind.
#include <memory>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/reasons.h"
#include "tests/crypto/official_vectors.h"
#include "tests/identity/identity_fixture.h"

namespace wxgate::identity::testing {
namespace {

using test::MetadataOf;
using test::NamesAppOnce;
using ::testing::HasSubstr;

class DecryptUserDataTest : public IdentityTest {
 protected:
  // Holds the official sample's key for `openid`, as a Code2Session would.
  void HoldSampleKey(absl::string_view openid) {
    sessions_->Put("mini", openid, std::string(vectors::kSessionKey),
                   [](absl::Status stored) { ASSERT_TRUE(stored.ok()) << stored; });
  }

  static v1::DecryptUserDataRequest Sample(absl::string_view openid = vectors::kOpenId) {
    v1::DecryptUserDataRequest request;
    request.set_app("mini");
    request.set_openid(std::string(openid));
    request.set_encrypted_data(std::string(vectors::kEncryptedData));
    request.set_iv(std::string(vectors::kIv));
    return request;
  }

  ReplyRecorder<v1::DecryptUserDataResponse> Decrypt(const v1::DecryptUserDataRequest& request) {
    return Start(&Identity::DecryptUserData, request);
  }
};

TEST_F(DecryptUserDataTest, TheHeldKeyDecryptsTheOfficialSample) {
  HoldSampleKey(vectors::kOpenId);
  ReplyRecorder<v1::DecryptUserDataResponse> reply = Decrypt(Sample());
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(reply.result()->json(), vectors::kPlaintext);
  EXPECT_EQ(reply.result()->openid(), vectors::kOpenId);
  EXPECT_EQ(reply.result()->unionid(), vectors::kUnionId);
  EXPECT_EQ(reply.result()->watermark_timestamp(), vectors::kWatermarkTimestamp);
  EXPECT_FALSE(absl::StrContains(reply.result()->SerializeAsString(), vectors::kSessionKey));
  EXPECT_TRUE(up_.http.requests().empty());
}

TEST_F(DecryptUserDataTest, AUserWithNoHeldKeyHasNoSession) {
  ReplyRecorder<v1::DecryptUserDataResponse> reply = Decrypt(Sample());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kNoSession);
  EXPECT_THAT(reply.status().message(), HasSubstr("no session: call Code2Session first"));
  EXPECT_EQ(MetadataOf(reply.status(), "field"), "openid");
  EXPECT_TRUE(NamesAppOnce(reply.status(), "mini"));

  v1::DecryptUserDataRequest member;
  member.set_app("cs");
  member.set_wecom_user_id("zhangsan");
  member.set_encrypted_data(std::string(vectors::kEncryptedData));
  member.set_iv(std::string(vectors::kIv));
  ReplyRecorder<v1::DecryptUserDataResponse> wecom = Decrypt(member);
  EXPECT_EQ(ErrorReason(wecom.status()), reason::kNoSession);
  EXPECT_THAT(wecom.status().message(), HasSubstr("no session: call WeComCode2Session first"));
  EXPECT_EQ(MetadataOf(wecom.status(), "field"), "wecom_user_id");
}

TEST_F(DecryptUserDataTest, MalformedDataIsInvalidWithOrWithoutASession) {
  v1::DecryptUserDataRequest bad = Sample();
  bad.set_iv("c2hvcnQ=");  // 5 bytes
  EXPECT_EQ(Decrypt(bad).status().code(), absl::StatusCode::kInvalidArgument);
  HoldSampleKey(vectors::kOpenId);
  ReplyRecorder<v1::DecryptUserDataResponse> reply = Decrypt(bad);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetadataOf(reply.status(), "field"), "iv");
}

TEST_F(DecryptUserDataTest, UsersAreNamedTheWayTheirAppsKindNamesThem) {
  v1::DecryptUserDataRequest mini = Sample();
  mini.set_wecom_user_id("zhangsan");  // the oneof drops the openid
  EXPECT_EQ(MetadataOf(Decrypt(mini).status(), "field"), "openid");
  v1::DecryptUserDataRequest wecom = Sample();
  wecom.set_app("cs");
  ReplyRecorder<v1::DecryptUserDataResponse> reply = Decrypt(wecom);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetadataOf(reply.status(), "field"), "wecom_user_id");
  EXPECT_EQ(Decrypt(Sample("has space")).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DecryptUserDataTest, AnotherUsersDataIsNotHandedBack) {
  // The key is held for oMallory, the data says it is about the sample's user.
  HoldSampleKey("oMallory");
  ReplyRecorder<v1::DecryptUserDataResponse> reply = Decrypt(Sample("oMallory"));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(reply.status()), reason::kOpenidMismatch);
  EXPECT_FALSE(absl::StrContains(reply.status().message(), vectors::kOpenId));
}

TEST_F(DecryptUserDataTest, TheRequestNeedNotOutliveTheSessionLookup) {
  // A remote store answers after the call returned; by then the request is
  // gone (the call template frees it once the reply is sent or queued).
  DeferredSessionStore store(*sessions_);
  identity_ = Make(&store);
  HoldSampleKey(vectors::kOpenId);
  auto request = std::make_unique<v1::DecryptUserDataRequest>(Sample());
  ReplyRecorder<v1::DecryptUserDataResponse> reply = Decrypt(*request);
  ASSERT_EQ(store.pending(), 1u);
  request->Clear();
  request.reset();
  store.Flush();
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(reply.result()->openid(), vectors::kOpenId);
}

TEST_F(DecryptUserDataTest, AKeyFromCode2SessionDecrypts) {
  up_.http.AnswerJson(test::kCode2Session, SessionBody(vectors::kOpenId, vectors::kSessionKey));
  ReplyRecorder<v1::Code2SessionResponse> login = Code2Session("mini", "code-1");
  up_.Settle();
  ASSERT_TRUE(login.result().ok()) << login.status();
  ReplyRecorder<v1::DecryptUserDataResponse> reply = Decrypt(Sample());
  ASSERT_TRUE(reply.result().ok()) << reply.status();
  EXPECT_EQ(reply.result()->unionid(), vectors::kUnionId);
}

}  // namespace
}  // namespace wxgate::identity::testing
