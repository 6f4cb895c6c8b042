// TestCa: its certificates verify (or fail) as OpenSSL's chain verification
// says they should, carry the names and usages asked for, and are accepted by
// gRPC's TLS server and client, which is what the TLS tests of wxgate and
// wxgate-cli build on.
#include "tests/support/test_ca.h"

#include <arpa/inet.h>
#include <grpc/grpc_security_constants.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/await_grpc_shutdown.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/support/health_server.h"
#include "tests/support/temp_dir.h"

namespace wxgate::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

using Cert = std::unique_ptr<X509, OpenSslFree<X509_free>>;
using Key = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>>;

// The first object `read` (PEM_read_X509, PEM_read_PrivateKey) finds in the
// file at `path`; null if none.
template <class Read>
auto ReadPemFile(const std::string& path, Read read) {
  FILE* file = std::fopen(path.c_str(), "r");
  auto* object = file != nullptr ? read(file, nullptr, nullptr, nullptr) : nullptr;
  if (file != nullptr) std::fclose(file);
  return object;
}

Cert LoadCert(const std::string& path) { return Cert(ReadPemFile(path, PEM_read_X509)); }
Key LoadKey(const std::string& path) { return Key(ReadPemFile(path, PEM_read_PrivateKey)); }

std::string ReadOrDie(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *std::move(text) : std::string();
}

// X509_verify_cert of the leaf in `cert_file` against the one trust anchor in
// `ca_file`, for `purpose` (X509_PURPOSE_SSL_SERVER, ...; 0: any): X509_V_OK
// or the verification error.
int VerifyError(const std::string& ca_file, const std::string& cert_file, int purpose = 0) {
  Cert ca = LoadCert(ca_file);
  Cert leaf = LoadCert(cert_file);
  if (ca == nullptr || leaf == nullptr) {
    ADD_FAILURE() << "cannot read " << ca_file << " or " << cert_file;
    return X509_V_ERR_UNSPECIFIED;
  }
  std::unique_ptr<X509_STORE, OpenSslFree<X509_STORE_free>> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, OpenSslFree<X509_STORE_CTX_free>> context(X509_STORE_CTX_new());
  if (X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(context.get(), store.get(), leaf.get(), nullptr) != 1 ||
      (purpose != 0 && X509_STORE_CTX_set_purpose(context.get(), purpose) != 1)) {
    ADD_FAILURE() << "cannot set up the verification";
    return X509_V_ERR_UNSPECIFIED;
  }
  int verified = X509_verify_cert(context.get());
  int error = X509_STORE_CTX_get_error(context.get());
  EXPECT_EQ(verified == 1, error == X509_V_OK) << X509_verify_cert_error_string(error);
  return error;
}

struct Sans {
  std::vector<std::string> dns, uri, ip;
};

Sans ReadSans(const std::string& cert_file) {
  Sans sans;
  Cert cert = LoadCert(cert_file);
  if (cert == nullptr) {
    ADD_FAILURE() << "cannot read " << cert_file;
    return sans;
  }
  std::unique_ptr<GENERAL_NAMES, OpenSslFree<GENERAL_NAMES_free>> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (names == nullptr) return sans;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    int type = 0;
    const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    std::string bytes(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                      static_cast<size_t>(ASN1_STRING_length(value)));
    if (type == GEN_DNS) sans.dns.push_back(bytes);
    if (type == GEN_URI) sans.uri.push_back(bytes);
    if (type == GEN_IPADD) {
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(bytes.size() == 4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof(text));
      sans.ip.emplace_back(text);
    }
  }
  return sans;
}

std::string CommonName(const std::string& cert_file) {
  Cert cert = LoadCert(cert_file);
  char name[256] = {};
  if (cert == nullptr || X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()),
                                                   NID_commonName, name, sizeof(name)) < 0) {
    return "";
  }
  return name;
}

class TestCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create("wxgate-test-ca");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::make_unique<TempDir>(*std::move(dir));
    absl::StatusOr<TestCa> ca = TestCa::Create(dir_->path(), "callers");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<TestCa>(*std::move(ca));
  }

  CertFiles Issue(const std::string& stem, const TestCa::Leaf& leaf = {}) {
    absl::StatusOr<CertFiles> files = ca_->Issue(stem, leaf);
    EXPECT_TRUE(files.ok()) << files.status();
    return files.ok() ? *std::move(files) : CertFiles{};
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<TestCa> ca_;
};

TEST_F(TestCaTest, WritesItsCertificateIntoTheDirectoryAsPem) {
  EXPECT_EQ(ca_->ca_file(), dir_->File("callers-ca.pem"));
  EXPECT_EQ(ReadOrDie(ca_->ca_file()), ca_->ca_pem());
  EXPECT_THAT(ca_->ca_pem(), HasSubstr("-----BEGIN CERTIFICATE-----"));
  Cert ca = LoadCert(ca_->ca_file());
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(CommonName(ca_->ca_file()), "callers");
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_issued(ca.get(), ca.get()), X509_V_OK) << "self-signed";
}

TEST_F(TestCaTest, LeafVerifiesAgainstItsCa) {
  CertFiles leaf = Issue("server");
  EXPECT_EQ(leaf.cert_file, dir_->File("server.pem"));
  EXPECT_EQ(leaf.key_file, dir_->File("server.key"));
  EXPECT_EQ(VerifyError(ca_->ca_file(), leaf.cert_file), X509_V_OK);
  Cert cert = LoadCert(leaf.cert_file);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_ca(cert.get()), 0) << "a leaf must not be able to sign";
}

TEST_F(TestCaTest, LeafDoesNotVerifyAgainstAnotherCa) {
  absl::StatusOr<TestCa> other = TestCa::Create(dir_->path(), "other");
  ASSERT_TRUE(other.ok()) << other.status();
  absl::StatusOr<CertFiles> stranger = other->Issue("stranger", {});
  ASSERT_TRUE(stranger.ok()) << stranger.status();
  EXPECT_EQ(VerifyError(ca_->ca_file(), stranger->cert_file),
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_EQ(VerifyError(other->ca_file(), stranger->cert_file), X509_V_OK);
  EXPECT_EQ(VerifyError(other->ca_file(), Issue("ours").cert_file),
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST_F(TestCaTest, ExpiredLeafFailsVerification) {
  TestCa::Leaf leaf;
  leaf.not_before = absl::Now() - absl::Hours(48);
  leaf.not_after = absl::Now() - absl::Hours(24);
  EXPECT_EQ(VerifyError(ca_->ca_file(), Issue("expired", leaf).cert_file),
            X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_F(TestCaTest, NotYetValidLeafFailsVerification) {
  TestCa::Leaf leaf;
  leaf.not_before = absl::Now() + absl::Hours(1);
  EXPECT_EQ(VerifyError(ca_->ca_file(), Issue("early", leaf).cert_file),
            X509_V_ERR_CERT_NOT_YET_VALID);
}

TEST_F(TestCaTest, SubjectAltNamesAreTheOnesAskedFor) {
  TestCa::Leaf leaf;
  leaf.dns_sans = {"localhost", "wxgate.internal"};
  leaf.uri_sans = {"spiffe://corp.example/ns/shop/sa/backend", "https://a.example/x,y"};
  leaf.ip_sans = {"127.0.0.1", "::1"};
  Sans sans = ReadSans(Issue("named", leaf).cert_file);
  EXPECT_THAT(sans.dns, ElementsAre("localhost", "wxgate.internal"));
  EXPECT_THAT(sans.uri,
              ElementsAre("spiffe://corp.example/ns/shop/sa/backend", "https://a.example/x,y"));
  EXPECT_THAT(sans.ip, ElementsAre("127.0.0.1", "::1"));
}

TEST_F(TestCaTest, NoSansAskedForMeansNone) {
  Sans sans = ReadSans(Issue("bare").cert_file);
  EXPECT_THAT(sans.dns, IsEmpty());
  EXPECT_THAT(sans.uri, IsEmpty());
  EXPECT_THAT(sans.ip, IsEmpty());
}

TEST_F(TestCaTest, CommonNameIsTheStemUnlessGiven) {
  EXPECT_EQ(CommonName(Issue("backend").cert_file), "backend");
  TestCa::Leaf leaf;
  leaf.common_name = "shop backend";
  EXPECT_EQ(CommonName(Issue("named", leaf).cert_file), "shop backend");
}

TEST_F(TestCaTest, AnIpSanThatIsNoAddressIsRefused) {
  TestCa::Leaf leaf;
  leaf.ip_sans = {"localhost"};
  absl::StatusOr<CertFiles> files = ca_->Issue("bad", leaf);
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument) << files.status();
  EXPECT_THAT(files.status().message(), HasSubstr("localhost"));
}

TEST_F(TestCaTest, KeyMatchesItsCertificateOnly) {
  CertFiles first = Issue("first");
  CertFiles second = Issue("second");
  Cert cert = LoadCert(first.cert_file);
  Key key = LoadKey(first.key_file);
  Key other_key = LoadKey(second.key_file);
  ASSERT_NE(cert, nullptr);
  ASSERT_NE(key, nullptr);
  ASSERT_NE(other_key, nullptr);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(X509_check_private_key(cert.get(), other_key.get()), 0);
  ERR_clear_error();
  EXPECT_EQ(EVP_PKEY_id(key.get()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_bits(key.get()), 256);
}

TEST_F(TestCaTest, ExtendedKeyUsageLimitsWhatALeafIsFor) {
  TestCa::Leaf server_only;
  server_only.client = false;
  std::string server = Issue("server-only", server_only).cert_file;
  EXPECT_EQ(VerifyError(ca_->ca_file(), server, X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(VerifyError(ca_->ca_file(), server, X509_PURPOSE_SSL_CLIENT),
            X509_V_ERR_INVALID_PURPOSE);

  TestCa::Leaf client_only;
  client_only.server = false;
  std::string client = Issue("client-only", client_only).cert_file;
  EXPECT_EQ(VerifyError(ca_->ca_file(), client, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  EXPECT_EQ(VerifyError(ca_->ca_file(), client, X509_PURPOSE_SSL_SERVER),
            X509_V_ERR_INVALID_PURPOSE);

  std::string both = Issue("both").cert_file;
  EXPECT_EQ(VerifyError(ca_->ca_file(), both, X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(VerifyError(ca_->ca_file(), both, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
}

TEST_F(TestCaTest, IdentifyNamesTheSerialAndTheFingerprint) {
  CertFiles leaf = Issue("leaf");
  absl::StatusOr<CertificateId> id = IdentifyCertificateFile(leaf.cert_file);
  ASSERT_TRUE(id.ok()) << id.status();

  Cert cert = LoadCert(leaf.cert_file);
  ASSERT_NE(cert, nullptr);
  std::unique_ptr<BIGNUM, OpenSslFree<BN_free>> serial(
      ASN1_INTEGER_to_BN(X509_get_serialNumber(cert.get()), nullptr));
  char* serial_hex = BN_bn2hex(serial.get());
  EXPECT_EQ(id->serial_hex, serial_hex);
  OPENSSL_free(serial_hex);

  unsigned char* der = nullptr;
  int der_length = i2d_X509(cert.get(), &der);
  ASSERT_GT(der_length, 0);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  ASSERT_EQ(EVP_Digest(der, static_cast<size_t>(der_length), digest, &digest_length, EVP_sha256(),
                       nullptr),
            1);
  OPENSSL_free(der);
  std::string expected;
  for (unsigned int i = 0; i < digest_length; ++i) {
    char byte[3];
    std::snprintf(byte, sizeof(byte), "%02x", digest[i]);
    expected += byte;
  }
  EXPECT_EQ(id->sha256_hex, expected);

  absl::StatusOr<CertificateId> from_text = IdentifyCertificate(ReadOrDie(leaf.cert_file));
  ASSERT_TRUE(from_text.ok()) << from_text.status();
  EXPECT_EQ(from_text->serial_hex, id->serial_hex);
  EXPECT_EQ(from_text->sha256_hex, id->sha256_hex);
}

TEST_F(TestCaTest, IssuingAgainUnderAStemReplacesBothFiles) {
  CertFiles first = Issue("rotated");
  absl::StatusOr<CertificateId> before = IdentifyCertificateFile(first.cert_file);
  std::string old_key = ReadOrDie(first.key_file);
  CertFiles second = Issue("rotated");
  EXPECT_EQ(second.cert_file, first.cert_file);
  absl::StatusOr<CertificateId> after = IdentifyCertificateFile(second.cert_file);
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_NE(after->serial_hex, before->serial_hex);
  EXPECT_NE(after->sha256_hex, before->sha256_hex);
  EXPECT_NE(ReadOrDie(second.key_file), old_key);
  Cert cert = LoadCert(second.cert_file);
  Key key = LoadKey(second.key_file);
  ASSERT_NE(cert, nullptr);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
}

TEST(TestCaOwnDirTest, CreatesItsOwnDirectoryAndRemovesIt) {
  std::string dir;
  {
    absl::StatusOr<TestCa> ca = TestCa::Create("own");
    ASSERT_TRUE(ca.ok()) << ca.status();
    dir = ca->dir();
    EXPECT_EQ(ca->ca_file(), dir + "/own-ca.pem");
    absl::StatusOr<CertFiles> leaf = ca->Issue("leaf", {});
    ASSERT_TRUE(leaf.ok()) << leaf.status();
    EXPECT_EQ(leaf->cert_file, dir + "/leaf.pem");
    TestCa moved = *std::move(ca);  // the directory moves with it
    EXPECT_EQ(VerifyError(moved.ca_file(), leaf->cert_file), X509_V_OK);
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(IdentifyCertificateTest, TextWithoutACertificateIsInvalid) {
  EXPECT_EQ(IdentifyCertificate("not PEM").status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<CertificateId> missing = IdentifyCertificateFile("/nonexistent/cert.pem");
  EXPECT_FALSE(missing.ok());
}

struct CheckResult {
  grpc::Status status;
  bool serving = false;
  std::string server_pem;  // the certificate the server presented
};

// One Health.Check over TLS to 127.0.0.1:port, trusting `ca_pem`, with the
// client certificate `client` (none when its paths are empty).
CheckResult Check(int port, const std::string& ca_pem, const CertFiles& client,
                  const std::string& server_name = "") {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca_pem;
  if (!client.cert_file.empty()) {
    options.pem_private_key = ReadOrDie(client.key_file);
    options.pem_cert_chain = ReadOrDie(client.cert_file);
  }
  grpc::ChannelArguments args;
  if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
  auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                           grpc::SslCredentials(options), args);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  grpc::health::v1::HealthCheckResponse response;
  CheckResult result;
  result.status = grpc::health::v1::Health::NewStub(channel)->Check(
      &context, grpc::health::v1::HealthCheckRequest(), &response);
  result.serving = response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  if (auto auth = context.auth_context(); auth != nullptr) {
    for (const grpc::string_ref& pem : auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)) {
      result.server_pem.assign(pem.data(), pem.size());
    }
  }
  return result;
}

class TestCaGrpcTest : public TestCaTest {
 protected:
  // A TLS health server presenting `server` and requiring a client
  // certificate from this CA.
  std::unique_ptr<HealthServer> StartServer(const CertFiles& server) {
    absl::StatusOr<std::unique_ptr<HealthServer>> started =
        HealthServer::Start(HealthServer::Tls{server, ca_->ca_file()});
    EXPECT_TRUE(started.ok()) << started.status();
    return started.ok() ? *std::move(started) : nullptr;
  }

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(TestCaTest::SetUp());
    TestCa::Leaf server;
    server.dns_sans = {"localhost"};
    server.ip_sans = {"127.0.0.1"};
    server.client = false;
    server_files_ = Issue("server", server);
    TestCa::Leaf client;
    client.uri_sans = {kClientUri};
    client.server = false;
    client_files_ = Issue("client", client);
  }

  static constexpr char kClientUri[] = "spiffe://corp.example/ns/shop/sa/backend";
  CertFiles server_files_;
  CertFiles client_files_;
};

TEST_F(TestCaGrpcTest, MutualTlsCallSucceedsAndEachSideSeesTheOther) {
  std::unique_ptr<HealthServer> server = StartServer(server_files_);
  ASSERT_NE(server, nullptr);
  CheckResult result = Check(server->port(), ca_->ca_pem(), client_files_);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_TRUE(result.serving);
  ASSERT_EQ(server->calls().size(), 1u);
  EXPECT_THAT(server->calls()[0].peer_uris, ElementsAre(kClientUri));

  absl::StatusOr<CertificateId> presented = IdentifyCertificate(result.server_pem);
  absl::StatusOr<CertificateId> issued = IdentifyCertificateFile(server_files_.cert_file);
  ASSERT_TRUE(presented.ok()) << presented.status();
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(presented->sha256_hex, issued->sha256_hex);
}

TEST_F(TestCaGrpcTest, DnsSanMatchesATargetNameOverride) {
  std::unique_ptr<HealthServer> server = StartServer(server_files_);
  ASSERT_NE(server, nullptr);
  CheckResult result = Check(server->port(), ca_->ca_pem(), client_files_, "localhost");
  EXPECT_TRUE(result.status.ok()) << result.status.error_message();
  CheckResult wrong_name = Check(server->port(), ca_->ca_pem(), client_files_, "elsewhere.example");
  EXPECT_EQ(wrong_name.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TestCaGrpcTest, ClientCertificateFromAnotherCaIsRefused) {
  std::unique_ptr<HealthServer> server = StartServer(server_files_);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<TestCa> other = TestCa::Create(dir_->path(), "other");
  ASSERT_TRUE(other.ok()) << other.status();
  absl::StatusOr<CertFiles> stranger = other->Issue("stranger", {});
  ASSERT_TRUE(stranger.ok()) << stranger.status();
  CheckResult result = Check(server->port(), ca_->ca_pem(), *stranger);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << result.status.error_message();
  EXPECT_THAT(server->calls(), IsEmpty()) << "refused in the handshake, before any call";
  CheckResult without = Check(server->port(), ca_->ca_pem(), CertFiles{});
  EXPECT_EQ(without.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TestCaGrpcTest, ExpiredServerCertificateIsRefusedByTheClient) {
  TestCa::Leaf expired;
  expired.ip_sans = {"127.0.0.1"};
  expired.not_before = absl::Now() - absl::Hours(48);
  expired.not_after = absl::Now() - absl::Hours(24);
  std::unique_ptr<HealthServer> server = StartServer(Issue("expired-server", expired));
  ASSERT_NE(server, nullptr);
  CheckResult result = Check(server->port(), ca_->ca_pem(), client_files_);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << result.status.error_message();
  EXPECT_THAT(result.server_pem, Not(HasSubstr("CERTIFICATE")));
}

// The servers and channels above drop their last references on gRPC's own
// threads; gRPC must finish shutting down before the binary exits
// (client/await_grpc_shutdown.h).
class GrpcShutdownEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { EXPECT_TRUE(AwaitGrpcShutdown(absl::Seconds(30))); }
};
[[maybe_unused]] ::testing::Environment* const kGrpcShutdownEnvironment =
    ::testing::AddGlobalTestEnvironment(new GrpcShutdownEnvironment);

}  // namespace
}  // namespace wxgate::test
