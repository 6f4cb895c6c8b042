// server.http_address beside server.tls: HTTPS with the same certificate,
// and the callers known by their verified client certificate or token, as on
// gRPC (security_fixture.h's TlsServerTest).

#include <httplib.h>

#include <string>

#include "absl/strings/numbers.h"
#include "gtest/gtest.h"
#include "tests/integration/security_fixture.h"
#include "tests/support/json.h"

namespace wxgate::test {
namespace {

constexpr char kSignPath[] = "/wxgate.v1.SignatureService/SignJsapiConfig";
constexpr char kTokenPath[] = "/wxgate.v1.TokenService/GetAccessToken";

class HttpsTest : public TlsServerTest {
 protected:
  // The HTTPS listener's port, from wxgate's log line.
  static int HttpsPort() {
    absl::StatusOr<std::string> line = wxgate().WaitForLog("HTTP/JSON on https://");
    EXPECT_TRUE(line.ok()) << line.status();
    if (!line.ok()) return 0;
    const size_t colon = line->find(':', line->find("https://") + 8);
    int port = 0;
    EXPECT_TRUE(
        absl::SimpleAtoi(line->substr(colon + 1, line->find(' ', colon) - colon - 1), &port))
        << *line;
    return port;
  }

  // One POST over HTTPS trusting the test CA, presenting `client` when given.
  static httplib::Result Post(const char* path, const std::string& body,
                              const CertFiles* client = nullptr,
                              const std::string& authorization = "") {
    auto https = client != nullptr
                     ? std::make_unique<httplib::SSLClient>("127.0.0.1", HttpsPort(),
                                                            client->cert_file, client->key_file)
                     : std::make_unique<httplib::SSLClient>("127.0.0.1", HttpsPort());
    https->set_ca_cert_path(pki_->ca->ca_file());
    https->enable_server_certificate_verification(true);
    https->set_connection_timeout(10);
    https->set_read_timeout(30);
    httplib::Headers headers;
    if (!authorization.empty()) headers.emplace("Authorization", authorization);
    return https->Post(path, headers, body, "application/json");
  }

  // The ErrorInfo reason of an error body.
  static std::string Reason(const httplib::Result& result) {
    absl::StatusOr<JsonDoc> doc = JsonDoc::Parse(result->body);
    EXPECT_TRUE(doc.ok()) << result->body;
    return doc.ok() ? doc->Str("/details/0/reason") : "";
  }
};

constexpr char kSignCs[] = R"({"app":"cs","url":"https://h5.example.com/page"})";

TEST_F(HttpsTest, CertificateCallerIsServed) {
  httplib::Result result = Post(kSignPath, kSignCs, &pki_->shop);
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200) << result->body;
  absl::StatusOr<JsonDoc> doc = JsonDoc::Parse(result->body);
  ASSERT_TRUE(doc.ok()) << result->body;
  EXPECT_EQ(doc->Str("/url"), "https://h5.example.com/page");
  EXPECT_EQ(doc->Str("/signature").size(), 40u) << result->body;
}

TEST_F(HttpsTest, CertificateCallerOutsideItsGrantIsForbidden) {
  httplib::Result result = Post(kTokenPath, R"({"app":"oa"})", &pki_->shop);
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 403) << result->body;
  EXPECT_EQ(Reason(result), "CALLER_NOT_ALLOWED");
}

TEST_F(HttpsTest, UnknownCertificateOrNoneIsUnauthenticated) {
  for (const CertFiles* client :
       {static_cast<const CertFiles*>(&pki_->stranger), static_cast<const CertFiles*>(nullptr)}) {
    httplib::Result result = Post(kSignPath, kSignCs, client);
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, 401) << result->body;
    EXPECT_EQ(Reason(result), "CALLER_UNKNOWN");
  }
}

TEST_F(HttpsTest, TokenCallerIsServedWithoutCertificate) {
  httplib::Result result = Post(kTokenPath, R"({"app":"oa"})", nullptr, Bearer(kRobotToken));
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200) << result->body;
  EXPECT_NE(result->body.find("accessToken"), std::string::npos);
}

TEST_F(HttpsTest, PlainHttpIsRefused) {
  httplib::Client plain("127.0.0.1", HttpsPort());
  plain.set_connection_timeout(10);
  plain.set_read_timeout(10);
  httplib::Result result = plain.Post(kSignPath, kSignCs, "application/json");
  EXPECT_TRUE(!result || result->status != 200);
}

}  // namespace
}  // namespace wxgate::test
