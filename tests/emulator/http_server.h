#ifndef WXGATE_TESTS_EMULATOR_HTTP_SERVER_H_
#define WXGATE_TESTS_EMULATOR_HTTP_SERVER_H_

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/emulator/api.h"
#include "tests/emulator/emulator.h"
#include "tests/emulator/faults.h"
#include "tests/emulator/stats.h"
#include "tests/emulator/tls.h"

namespace wxgate::emulator {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  size_t threads = 64;        // initial worker threads
  size_t max_threads = 4096;  // one per open connection at most
  bool quiet = false;         // no per-request log line
  absl::Duration keep_alive = absl::Seconds(60);
  absl::Duration hang_cap = absl::Seconds(60);
  absl::Duration slow_body_interval = absl::Milliseconds(100);
};

// The HTTPS front of the emulator: TLS, routing of WeChat/WeCom paths and the
// control API, fault injection, stats. Connections are served by httplib,
// one worker thread each.
class HttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(const ServerOptions& options,
                                                            const TlsMaterial& tls,
                                                            Emulator* emulator);
  ~HttpServer();

  int port() const { return port_; }
  // Serves on a background thread.
  void Start();
  // Stops accepting, ends open connections and hanging answers, waits for
  // the workers.
  void Stop();

  // One WeChat/WeCom path and the Emulator method that answers it.
  struct Route;

 private:
  class Server;

  HttpServer(ServerOptions options, Emulator* emulator);
  void Handle(const httplib::Request& http_request, httplib::Response& response);
  Reply Upstream(const Route& route, const Request& request, const httplib::Request& http_request,
                 httplib::Response& response, bool* answered);
  Reply Control(const Request& request);
  void Deliver(const Fault* fault, Reply reply, httplib::Response& response);
  // Shuts the connection's socket down so the client sees it close.
  void Drop(const httplib::Request& http_request);
  // Blocks until the client closes the connection, Stop() or the hang cap.
  void Hang(const httplib::Request& http_request);
  void ShutdownConnections();

  const ServerOptions options_;
  Emulator* const emulator_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
  int stop_pipe_[2] = {-1, -1};  // readable once Stop() began
  std::thread listener_;
  Stats stats_;
  FaultList faults_;
};

}  // namespace wxgate::emulator

#endif  // WXGATE_TESTS_EMULATOR_HTTP_SERVER_H_
