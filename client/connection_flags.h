#ifndef WXGATE_CLIENT_CONNECTION_FLAGS_H_
#define WXGATE_CLIENT_CONNECTION_FLAGS_H_

#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/cli_args.h"

namespace wxgate::cli {

// How wxgate-cli and wxgate-load reach a wxgate that serves TLS or mTLS, or
// wants a bearer token, from the flags both take:
//
//   --tls                   TLS, trusting gRPC's default roots
//   --cacert=PATH           trust the CA certificates in PATH instead
//   --cert=PATH --key=PATH  present this client certificate (mTLS); both or neither
//   --server_name=NAME      the name the server's certificate must carry, when
//                           the target is an address or another name
//   --token=TOKEN           sent as "authorization: Bearer TOKEN" with every
//                           call; without the flag, $WXGATE_TOKEN if set
//
// --cacert, --cert, --key and --server_name imply --tls: they mean nothing
// without it, and a user who names a CA has asked for TLS. A token goes over
// plaintext too, for a wxgate on loopback.
//
// Immutable once made; Authorize may be called from any thread.
class Connection {
 public:
  // Reads the flags (marking them used) and the files they name.
  // InvalidArgument: the flags contradict each other (usage error).
  // Other errors: a file cannot be read or holds no PEM; the message names
  // the flag and the path. Neither ever contains the token.
  static absl::StatusOr<Connection> FromFlags(const Args& args);

  bool tls() const { return tls_; }
  std::shared_ptr<grpc::ChannelCredentials> Credentials() const;
  // Sets the channel arguments the flags ask for (the TLS target name).
  void Configure(grpc::ChannelArguments& channel_args) const;
  // Adds the bearer token, if there is one, to a call's metadata. Per call
  // rather than as call credentials because gRPC refuses call credentials
  // on a plaintext channel.
  void Authorize(grpc::ClientContext& context) const;

 private:
  Connection() = default;

  bool tls_ = false;
  grpc::SslCredentialsOptions ssl_;
  std::string server_name_;
  std::string authorization_;  // "Bearer <token>", or empty
};

}  // namespace wxgate::cli

#endif  // WXGATE_CLIENT_CONNECTION_FLAGS_H_
