#include "client/connection_flags.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace wxgate::cli {
namespace {

// The PEM file named by --<flag>=<path>. The error names both, and why.
absl::StatusOr<std::string> ReadPem(absl::string_view flag, const std::string& path) {
  auto error = [&](absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read --", flag, "=", path, ": ", why));
  };
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return error(std::strerror(errno));
  std::string text;
  char buffer[16384];
  for (;;) {
    ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int read_errno = errno;
      close(fd);
      return error(std::strerror(read_errno));
    }
    if (got == 0) break;
    text.append(buffer, static_cast<size_t>(got));
  }
  close(fd);
  // gRPC would take anything and fail each handshake with a vaguer message.
  if (!absl::StrContains(text, "-----BEGIN ")) return error("no PEM block in it");
  return text;
}

// Whether `token` can travel in an HTTP/2 header value as RFC 6750 allows
// (visible ASCII, no spaces). The token itself is never part of a message.
bool IsHeaderSafe(absl::string_view token) {
  for (char c : token) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<Connection> Connection::FromFlags(const Args& args) {
  Connection connection;
  std::optional<std::string> tls = args.Flag("tls");
  std::optional<std::string> cacert = args.Flag("cacert");
  std::optional<std::string> cert = args.Flag("cert");
  std::optional<std::string> key = args.Flag("key");
  std::optional<std::string> server_name = args.Flag("server_name");
  std::optional<std::string> token = args.Flag("token");

  if (cert.has_value() != key.has_value()) {
    return absl::InvalidArgumentError(
        "--cert and --key go together: the client certificate and its private key");
  }
  const char* implied_by = cacert        ? "--cacert"
                           : cert        ? "--cert and --key"
                           : server_name ? "--server_name"
                                         : nullptr;
  if (tls.has_value() && !args.Bool("tls")) {
    if (*tls != "false" && *tls != "0") {
      return absl::InvalidArgumentError(absl::StrCat("--tls=", *tls, " is neither true nor false"));
    }
    if (implied_by != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls=", *tls, " turns TLS off, but the command line has ", implied_by));
    }
  }
  connection.tls_ = args.Bool("tls") || implied_by != nullptr;

  if (cacert) {
    absl::StatusOr<std::string> pem = ReadPem("cacert", *cacert);
    if (!pem.ok()) return pem.status();
    connection.ssl_.pem_root_certs = *std::move(pem);
  }
  if (cert) {
    absl::StatusOr<std::string> chain = ReadPem("cert", *cert);
    if (!chain.ok()) return chain.status();
    absl::StatusOr<std::string> private_key = ReadPem("key", *key);
    if (!private_key.ok()) return private_key.status();
    connection.ssl_.pem_cert_chain = *std::move(chain);
    connection.ssl_.pem_private_key = *std::move(private_key);
  }
  if (server_name) {
    if (server_name->empty()) return absl::InvalidArgumentError("--server_name is empty");
    connection.server_name_ = *server_name;
  }

  const char* source = "--token";
  if (!token) {
    const char* env = std::getenv("WXGATE_TOKEN");
    if (env != nullptr && *env != '\0') token = env;
    source = "$WXGATE_TOKEN";
  }
  if (token) {
    if (token->empty()) return absl::InvalidArgumentError("--token is empty");
    if (!IsHeaderSafe(*token)) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, " holds a space or a character outside visible ASCII"));
    }
    connection.authorization_ = absl::StrCat("Bearer ", *token);
  }
  return connection;
}

std::shared_ptr<grpc::ChannelCredentials> Connection::Credentials() const {
  return tls_ ? grpc::SslCredentials(ssl_) : grpc::InsecureChannelCredentials();
}

void Connection::Configure(grpc::ChannelArguments& channel_args) const {
  if (!server_name_.empty()) channel_args.SetSslTargetNameOverride(server_name_);
}

void Connection::Authorize(grpc::ClientContext& context) const {
  if (!authorization_.empty()) context.AddMetadata("authorization", authorization_);
}

}  // namespace wxgate::cli
