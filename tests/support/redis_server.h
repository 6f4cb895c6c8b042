#ifndef WXGATE_TESTS_SUPPORT_REDIS_SERVER_H_
#define WXGATE_TESTS_SUPPORT_REDIS_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace wxgate::test {

struct RedisServerOptions {
  // requirepass for the default user; empty: no AUTH needed.
  std::string password;
  // Further redis-server arguments, e.g. {"--maxmemory", "10mb"}.
  std::vector<std::string> extra_args;
};

// A real redis-server (Debian's) on 127.0.0.1 and a free port, with no
// persistence: a restart starts empty, as a Redis without a disk does. Killed
// on destruction.
class RedisServer {
 public:
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(RedisServerOptions options = {});

  int port() const { return port_; }
  // "127.0.0.1:<port>", what wxgate's store.redis.address takes.
  std::string address() const;

  // SIGKILL, as a crash or an OOM kill; the port stays reserved for Restart.
  absl::Status Kill();
  // Starts it again on the same port, empty.
  absl::Status Restart();
  // SIGSTOP / SIGCONT: a Redis that accepts nothing and answers nothing.
  absl::Status Pause();
  absl::Status Resume();

  // Runs `redis-cli -p PORT [--user/--pass] ARGS...` and returns its stdout
  // (raw output, one reply element per line).
  absl::StatusOr<std::string> Cli(std::vector<std::string> args) const;
  // Every key, through SCAN.
  absl::StatusOr<std::vector<std::string>> Keys() const;

 private:
  RedisServer(RedisServerOptions options, TempDir dir)
      : options_(std::move(options)), dir_(std::move(dir)) {}
  absl::Status Launch();

  RedisServerOptions options_;
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_REDIS_SERVER_H_
