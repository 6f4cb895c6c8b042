#include "server/metrics/metrics_listener.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/host_port.h"
#include "server/metrics/exposition.h"

namespace wxgate::metrics {

struct MetricsListener::State {
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> finished{false};
};

absl::StatusOr<std::unique_ptr<MetricsListener>> MetricsListener::Start(absl::string_view address,
                                                                        const Registry& registry) {
  std::string host;
  int port = 0;
  if (!SplitHostPort(address, host, port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics_address \"", address, "\" is not host:port"));
  }
  auto state = std::make_unique<State>();
  httplib::Server& server = state->server;
  // Scrapes come every few seconds from a handful of scrapers; a kept-alive
  // connection holds its thread, hence more than one.
  server.new_task_queue = [] { return new httplib::ThreadPool(4); };
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  server.set_keep_alive_max_count(100);
  // SO_REUSEADDR alone: cpp-httplib's default adds SO_REUSEPORT, which would
  // let a second wxgate on the same host share the port and split scrapes
  // between the two instead of failing to start.
  server.set_socket_options([](int socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.Get("/metrics", [&registry](const httplib::Request&, httplib::Response& response) {
    response.set_content(registry.Scrape(), std::string(kContentType));
  });
  const int bound =
      port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    return absl::UnavailableError(absl::StrCat("metrics_address ", address,
                                               ": cannot listen there (in use, or no such "
                                               "local address)"));
  }
  State* raw = state.get();
  state->thread = std::thread([raw] {
    raw->server.listen_after_bind();
    raw->finished.store(true);
  });
  // stop() only reaches a server that is running: wait until it is, so a
  // destructor right after Start cannot miss it.
  while (!raw->server.is_running() && !raw->finished.load()) std::this_thread::yield();
  std::unique_ptr<MetricsListener> listener(new MetricsListener(std::move(state)));
  listener->address_ = JoinHostPort(host, bound);
  return listener;
}

MetricsListener::MetricsListener(std::unique_ptr<State> state) : state_(std::move(state)) {}

MetricsListener::~MetricsListener() {
  state_->server.stop();
  if (state_->thread.joinable()) state_->thread.join();
}

}  // namespace wxgate::metrics
