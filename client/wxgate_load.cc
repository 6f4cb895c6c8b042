// wxgate-load: an asynchronous gRPC load client for wxgate.
//
// Each worker thread owns one grpc::CompletionQueue and keeps its share of
// --concurrency calls in flight over the --channels connections (closed loop),
// or starts calls at its share of --rate per second (open loop, still capped
// at --concurrency in flight). It stops starting calls after --duration or
// --calls, then waits for every call in flight: each call started gets
// exactly one completion, and the report checks sent = completed = the sum
// over status codes.
//
// Every status is counted per RPC, code and ErrorInfo reason (decoded from
// grpc-status-details-bin as google.rpc.Status); every OK answer is parsed and
// checked; latencies go into per-RPC log-linear histograms; a call that
// completes after its deadline + 10% (measured here) counts as late.
#include <grpcpp/alarm.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/await_grpc_shutdown.h"
#include "client/cli_args.h"
#include "client/connection_flags.h"
#include "client/load_stats.h"
#include "client/load_workload.h"

namespace wxgate::load {
namespace {

constexpr char kUsage[] = R"(usage: wxgate-load [options]

  --target=HOST:PORT     wxgate's address (default 127.0.0.1:50051, or $WXGATE_TARGET)
  --tls                  connect with TLS, trusting gRPC's default (public) roots
  --cacert=PATH          trust the CA certificates of this PEM file instead
  --cert=PATH --key=PATH present this client certificate and its key (mTLS); both or neither
  --server-name=NAME     the name the server's certificate must carry when --target is an
                         address (--cacert, --cert, --key and --server-name imply --tls)
  --token=TOKEN          send "authorization: Bearer TOKEN" with every call (default
                         $WXGATE_TOKEN); in plaintext without TLS, for a wxgate on loopback
  --mix=RPC:W,...        weighted mix of RPCs (default health:1); RPCs: health, sign-jsapi,
                         sign-agent, token, code2session, wecom-code2session, decrypt, phone,
                         external-contact, kf-customers
  --duration=D           how long to start calls (default 10s), e.g. 30s, 3m
  --calls=N              start exactly N calls instead (overrides --duration)
  --concurrency=N        calls in flight at most, over all threads (default 16)
  --threads=N            worker threads, one completion queue each (default 1)
  --channels=N           separate gRPC channels (connections) (default 1)
  --rate=R               start R calls per second overall (open loop; default: closed loop)
  --deadline=D           per-call deadline (default 5s); completion after D + 10% is "late"
  --fixture=FILE         JSON requests per RPC: {"sign-jsapi":[{"app":"news","url":"..."}],...}
  --fixture-json=JSON    the same, inline; either replaces the built-in entries of its RPCs
  --codes-file=FILE      single-use codes, one a line: "RPC APP CODE [USER]" with RPC
                         code2session (USER: the openid expected back), wecom-code2session
                         (USER: the user_id expected back) or phone (USER: sent as openid)
  --verify=false         do not parse and check OK answers
  (flag names take '-' or '_' alike)
  --json                 print the report as JSON on stdout (the text report goes to stderr)
  --progress=D           print a progress line to stderr every D (default off)
  --connect-timeout=D    how long to wait for every channel to connect (default 10s)
  --seed=N               random seed of the mix (default: from the clock)

The built-in fixture covers health, sign-jsapi, sign-agent and token for the apps of
deploy/demo.textproto. SIGINT/SIGTERM stop starting calls; the run then drains and reports.
Exit status: 0 after a run that accounted for every call, 1 on failure, 2 for bad usage
or a TLS file it cannot read.
)";

using Clock = std::chrono::steady_clock;

struct Options {
  std::string target;
  std::vector<std::pair<Rpc, double>> mix;
  absl::Duration duration = absl::Seconds(10);
  int64_t calls = 0;
  int concurrency = 16;
  int threads = 1;
  int channels = 1;
  double rate = 0;
  absl::Duration deadline = absl::Seconds(5);
  bool verify = true;
  bool json = false;
  absl::Duration progress = absl::ZeroDuration();
  absl::Duration connect_timeout = absl::Seconds(10);
  uint64_t seed = 0;
};

// What every worker shares.
struct Shared {
  const Options& options;
  const wxgate::cli::Connection& connection;
  Workload& workload;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::atomic<int64_t> budget{0};  // --calls left to start; unused without --calls
};

// Set by SIGINT/SIGTERM: stop starting calls.
std::atomic<bool> g_stop{false};

class Worker {
 public:
  Worker(int index, int cap, Shared& shared)
      : index_(index),
        cap_(cap),
        shared_(shared),
        options_(shared.options),
        rng_(shared.options.seed + 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(index + 1)) {
    for (const auto& channel : shared.channels) {
      stubs_.push_back(std::make_unique<grpc::GenericStub>(channel));
    }
    double sum = 0;
    for (const auto& [rpc, weight] : options_.mix) {
      if (weight <= 0) continue;
      sum += weight;
      mix_.push_back(rpc);
      cumulative_.push_back(sum);
      if (!TakesCode(rpc)) has_codeless_ = true;
    }
    next_channel_ = static_cast<size_t>(index);
    deadline_ = absl::ToChronoNanoseconds(options_.deadline);
    late_after_ = deadline_ + deadline_ / 10;
    if (options_.rate > 0) {
      interval_ = std::chrono::nanoseconds(
          static_cast<int64_t>(1e9 * static_cast<double>(shared.options.threads) / options_.rate));
    }
  }

  void Run(Clock::time_point start) {
    start_ = start;
    end_ = start + absl::ToChronoNanoseconds(options_.duration);
    next_send_ = start + interval_ * index_ / std::max(1, options_.threads);
    last_send_ = start;
    Fill();
    MaybeShutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
      if (tag == &alarm_tag_) {
        alarm_.reset();
      } else {
        Finish(static_cast<Call*>(tag));
      }
      Fill();
      MaybeShutdown();
    }
  }

  const RunStats& stats() const { return stats_; }
  Clock::time_point last_send() const { return last_send_; }
  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t completed() const { return completed_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  // One call in flight; its address is the completion tag.
  struct Call {
    Rpc rpc;
    Clock::time_point start;
    const Prepared* prepared = nullptr;
    const Code* code = nullptr;
    grpc::ClientContext context;
    grpc::ByteBuffer answer;
    grpc::Status status;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
  };

  // Starts calls while the window and the schedule allow.
  void Fill() {
    if (done_sending_) return;
    Clock::time_point now = Clock::now();
    if (g_stop.load(std::memory_order_relaxed) || (options_.calls == 0 && now >= end_)) {
      done_sending_ = true;
      return;
    }
    while (inflight_ < cap_) {
      if (interval_.count() > 0) {
        if (next_send_ > now) {
          // Wake at the next send time, or within 100 ms to notice the end.
          ArmAlarm(std::min(next_send_, now + std::chrono::milliseconds(100)));
          return;
        }
        // After a stall (every slot busy) do not burst to catch up more
        // than a second's worth.
        if (now - next_send_ > std::chrono::seconds(1)) next_send_ = now;
        next_send_ += interval_;
      }
      if (!StartOne(now)) {
        done_sending_ = true;
        return;
      }
      now = Clock::now();
    }
  }

  // Draws an RPC from the mix and starts it. False when nothing more may be
  // started: --calls spent, or every RPC of the mix needs a code and no pool
  // has one left.
  bool StartOne(Clock::time_point now) {
    if (options_.calls > 0 && shared_.budget.fetch_sub(1, std::memory_order_relaxed) <= 0) {
      return false;
    }
    for (;;) {
      Rpc rpc = Draw();
      RpcStats& stats = stats_.rpcs[static_cast<int>(rpc)];
      auto call = std::make_unique<Call>();
      call->rpc = rpc;
      grpc::ByteBuffer request;
      if (TakesCode(rpc)) {
        call->code = shared_.workload.codes(rpc).Take();
        if (call->code == nullptr) {
          ++stats.no_code;
          if (!has_codeless_ && AllPoolsEmpty()) {
            if (options_.calls > 0) shared_.budget.fetch_add(1, std::memory_order_relaxed);
            return false;
          }
          continue;
        }
        request = ToByteBuffer(CodeRequest(rpc, *call->code));
      } else {
        const std::vector<Prepared>& requests = shared_.workload.requests(rpc);
        size_t& next = next_fixture_[static_cast<int>(rpc)];
        call->prepared = &requests[(next++ + static_cast<size_t>(index_)) % requests.size()];
        request = ToByteBuffer(call->prepared->bytes);
      }
      call->context.set_deadline(std::chrono::system_clock::now() + deadline_);
      shared_.connection.Authorize(call->context);
      grpc::GenericStub& stub = *stubs_[next_channel_++ % stubs_.size()];
      call->start = now;
      call->reader = stub.PrepareUnaryCall(&call->context, RpcMethod(rpc), request, &cq_);
      call->reader->StartCall();
      Call* raw = call.release();
      raw->reader->Finish(&raw->answer, &raw->status, raw);
      ++stats.sent;
      ++inflight_;
      last_send_ = now;
      sent_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }

  void Finish(Call* raw) {
    std::unique_ptr<Call> call(raw);
    auto elapsed = Clock::now() - call->start;
    uint64_t elapsed_us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
    std::string bad;
    if (call->status.ok() && options_.verify) {
      bad = CheckAnswer(call->rpc, call->answer, call->prepared, call->code);
    }
    stats_.rpcs[static_cast<int>(call->rpc)].Complete(call->status, elapsed_us,
                                                      elapsed > late_after_, bad);
    --inflight_;
    completed_.fetch_add(1, std::memory_order_relaxed);
    if (!call->status.ok()) failed_.fetch_add(1, std::memory_order_relaxed);
  }

  Rpc Draw() {
    if (mix_.size() == 1) return mix_[0];
    double x = std::uniform_real_distribution<double>(0, cumulative_.back())(rng_);
    size_t i = static_cast<size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), x) -
                                   cumulative_.begin());
    return mix_[std::min(i, mix_.size() - 1)];
  }

  bool AllPoolsEmpty() const {
    for (Rpc rpc : mix_) {
      if (TakesCode(rpc) && shared_.workload.codes(rpc).left() > 0) return false;
    }
    return true;
  }

  void ArmAlarm(Clock::time_point when) {
    if (alarm_ != nullptr) return;
    alarm_ = std::make_unique<grpc::Alarm>();
    alarm_->Set(&cq_, std::chrono::system_clock::now() + (when - Clock::now()), &alarm_tag_);
  }

  // Once nothing more will be started and nothing is in flight, shuts the
  // queue down; Next() then drains it and returns false.
  void MaybeShutdown() {
    if (!done_sending_ || shut_down_) return;
    if (alarm_ != nullptr) {
      if (!alarm_cancelled_) alarm_->Cancel();  // its event still arrives
      alarm_cancelled_ = true;
      return;
    }
    if (inflight_ > 0) return;
    cq_.Shutdown();
    shut_down_ = true;
  }

  const int index_;
  const int cap_;
  Shared& shared_;
  const Options& options_;
  grpc::CompletionQueue cq_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::mt19937_64 rng_;
  std::vector<Rpc> mix_;
  std::vector<double> cumulative_;
  bool has_codeless_ = false;
  std::array<size_t, kRpcCount> next_fixture_{};
  size_t next_channel_ = 0;
  std::chrono::nanoseconds deadline_{0};
  std::chrono::nanoseconds late_after_{0};
  std::chrono::nanoseconds interval_{0};  // between starts, open loop only
  Clock::time_point start_, end_, next_send_, last_send_;
  int inflight_ = 0;
  bool done_sending_ = false;
  bool shut_down_ = false;
  std::unique_ptr<grpc::Alarm> alarm_;
  bool alarm_cancelled_ = false;
  char alarm_tag_ = 0;
  RunStats stats_;
  std::atomic<uint64_t> sent_{0}, completed_{0}, failed_{0};
};

int Usage(const std::string& message) {
  std::fprintf(stderr, "wxgate-load: %s\n\n%s", message.c_str(), kUsage);
  return 2;
}

bool ReadFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return true;
}

// Parses "rpc:weight,rpc:weight"; a bare "rpc" has weight 1.
bool ParseMix(absl::string_view text, std::vector<std::pair<Rpc, double>>& mix,
              std::string& error) {
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::vector<absl::string_view> parts = absl::StrSplit(item, ':');
    std::optional<Rpc> rpc = ParseRpc(parts[0]);
    double weight = 1;
    if (!rpc || parts.size() > 2 ||
        (parts.size() == 2 && (!absl::SimpleAtod(parts[1], &weight) || weight < 0))) {
      error = absl::StrCat("bad --mix item \"", item, "\"");
      return false;
    }
    mix.emplace_back(*rpc, weight);
  }
  double sum = 0;
  for (const auto& [rpc, weight] : mix) sum += weight;
  if (sum <= 0) {
    error = "--mix has no RPC with a positive weight";
    return false;
  }
  return true;
}

// A flag's name as the usage spells it.
std::string Shown(absl::string_view name) {
  std::string shown(name);
  std::replace(shown.begin(), shown.end(), '_', '-');
  return shown;
}

template <class Int>
bool ParsePositive(const wxgate::cli::Args& args, const char* name, Int& value,
                   std::string& error) {
  std::optional<std::string> text = args.Flag(name);
  if (!text) return true;
  int64_t parsed;
  if (!absl::SimpleAtoi(*text, &parsed) || parsed <= 0) {
    error = absl::StrCat("--", Shown(name), "=", *text, " is not a positive integer");
    return false;
  }
  value = static_cast<Int>(parsed);
  return true;
}

bool ParseDurationFlag(const wxgate::cli::Args& args, const char* name, absl::Duration& value,
                       bool allow_zero, std::string& error) {
  std::optional<std::string> text = args.Flag(name);
  if (!text) return true;
  absl::Duration parsed;
  if (!absl::ParseDuration(*text, &parsed) || parsed < absl::ZeroDuration() ||
      (!allow_zero && parsed == absl::ZeroDuration())) {
    error =
        absl::StrCat("--", Shown(name), "=", *text, " is not a duration such as 500ms, 30s or 3m");
    return false;
  }
  value = parsed;
  return true;
}

int Main(int argc, char** argv) {
  // SIGINT/SIGTERM: stop starting calls, drain, report. Blocked before any
  // thread starts, so in every thread (gRPC's included), and taken by sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Flag names are spelled with '-' or '_' alike (--codes-file, --codes_file).
  std::vector<std::string> words(argv, argv + argc);
  for (std::string& word : words) {
    if (word.size() < 3 || word.compare(0, 2, "--") != 0) continue;
    size_t end = std::min(word.find('='), word.size());
    std::replace(word.begin() + 2, word.begin() + static_cast<std::ptrdiff_t>(end), '-', '_');
  }
  std::vector<char*> pointers;
  pointers.reserve(words.size());
  for (std::string& word : words) pointers.push_back(word.data());
  wxgate::cli::Args args(argc, pointers.data());
  if (args.Bool("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args.positional().empty()) return Usage("takes no positional arguments");
  Options options;
  std::string error;
  const char* env_target = std::getenv("WXGATE_TARGET");
  options.target = args.FlagOr("target", env_target ? env_target : "127.0.0.1:50051");
  if (!ParseMix(args.FlagOr("mix", "health:1"), options.mix, error) ||
      !ParseDurationFlag(args, "duration", options.duration, false, error) ||
      !ParseDurationFlag(args, "deadline", options.deadline, false, error) ||
      !ParseDurationFlag(args, "progress", options.progress, true, error) ||
      !ParseDurationFlag(args, "connect_timeout", options.connect_timeout, false, error) ||
      !ParsePositive(args, "calls", options.calls, error) ||
      !ParsePositive(args, "concurrency", options.concurrency, error) ||
      !ParsePositive(args, "threads", options.threads, error) ||
      !ParsePositive(args, "channels", options.channels, error)) {
    return Usage(error);
  }
  if (auto rate = args.Flag("rate")) {
    if (!absl::SimpleAtod(*rate, &options.rate) || options.rate <= 0) {
      return Usage(absl::StrCat("--rate=", *rate, " is not a positive number"));
    }
  }
  if (auto seed = args.Flag("seed")) {
    if (!absl::SimpleAtoi(*seed, &options.seed)) return Usage("--seed takes an integer");
  } else {
    options.seed = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  }
  absl::StatusOr<wxgate::cli::Connection> connection = wxgate::cli::Connection::FromFlags(args);
  if (!connection.ok()) {
    // Its messages spell flags with '_', which this tool takes as well.
    std::string message(connection.status().message());
    if (absl::IsInvalidArgument(connection.status())) return Usage(message);
    std::fprintf(stderr, "wxgate-load: %s\n", message.c_str());
    return 2;
  }
  options.verify = args.FlagOr("verify", "true") != "false";
  options.json = args.Bool("json");
  options.threads = std::min(options.threads, options.concurrency);

  Workload workload;
  if (auto status = workload.LoadFixture(Workload::kDefaultFixture, "built-in fixture");
      !status.ok()) {
    std::fprintf(stderr, "wxgate-load: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  if (auto path = args.Flag("fixture")) {
    std::string text;
    if (!ReadFile(*path, text)) return Usage(absl::StrCat("cannot read --fixture=", *path));
    if (auto status = workload.LoadFixture(text, *path); !status.ok()) {
      return Usage(std::string(status.message()));
    }
  }
  if (auto inline_json = args.Flag("fixture_json")) {
    if (auto status = workload.LoadFixture(*inline_json, "--fixture-json"); !status.ok()) {
      return Usage(std::string(status.message()));
    }
  }
  if (auto path = args.Flag("codes_file")) {
    std::string text;
    if (!ReadFile(*path, text)) return Usage(absl::StrCat("cannot read --codes-file=", *path));
    if (auto status = workload.LoadCodes(text, *path); !status.ok()) {
      return Usage(std::string(status.message()));
    }
  }
  for (const auto& [rpc, weight] : options.mix) {
    if (weight <= 0) continue;
    if (TakesCode(rpc)) {
      if (workload.codes(rpc).size() == 0) {
        std::fprintf(stderr, "wxgate-load: warning: no codes for %s: every draw is no-code\n",
                     std::string(RpcName(rpc)).c_str());
      }
    } else if (workload.requests(rpc).empty()) {
      return Usage(absl::StrCat("--mix has ", RpcName(rpc),
                                " but the fixture has no request for it (--fixture)"));
    }
  }
  std::vector<std::string> unused = args.Unused();
  for (std::string& name : unused) name = Shown(name);
  if (!unused.empty())
    return Usage(absl::StrCat("unknown option --", absl::StrJoin(unused, ", --")));

  Shared shared{options, *connection, workload, {}, {}};
  shared.budget.store(options.calls);
  std::thread([signals] {
    int signal_number;
    sigwait(&signals, &signal_number);
    g_stop.store(true);
    sigwait(&signals, &signal_number);
    _exit(130);  // a second signal: give up on the drain
  }).detach();

  for (int i = 0; i < options.channels; ++i) {
    grpc::ChannelArguments channel_args;
    // Its own subchannel pool and a distinct argument: one connection each.
    channel_args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channel_args.SetInt("wxgate_load.channel", i);
    connection->Configure(channel_args);
    shared.channels.push_back(
        grpc::CreateCustomChannel(options.target, connection->Credentials(), channel_args));
  }
  auto connect_by =
      std::chrono::system_clock::now() + absl::ToChronoNanoseconds(options.connect_timeout);
  for (auto& channel : shared.channels) {
    if (!channel->WaitForConnected(connect_by)) {
      std::fprintf(stderr, "wxgate-load: could not connect to %s within %s\n",
                   options.target.c_str(), absl::FormatDuration(options.connect_timeout).c_str());
      return 1;
    }
  }

  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < options.threads; ++i) {
    int cap = options.concurrency / options.threads + (i < options.concurrency % options.threads);
    workers.push_back(std::make_unique<Worker>(i, cap, shared));
  }
  std::mutex mu;
  std::condition_variable cv;
  int running = options.threads;
  Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  threads.reserve(workers.size());
  for (auto& worker : workers) {
    threads.emplace_back([&, w = worker.get()] {
      w->Run(start);
      std::lock_guard<std::mutex> lock(mu);
      --running;
      cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    auto period = absl::ToChronoNanoseconds(options.progress);
    uint64_t last_completed = 0;
    Clock::time_point last = start;
    while (running > 0) {
      if (period.count() == 0) {
        cv.wait(lock, [&] { return running == 0; });
        break;
      }
      if (cv.wait_for(lock, period, [&] { return running == 0; })) break;
      uint64_t sent = 0, completed = 0, failed = 0;
      for (auto& worker : workers) {
        sent += worker->sent();
        completed += worker->completed();
        failed += worker->failed();
      }
      Clock::time_point now = Clock::now();
      double dt = std::chrono::duration<double>(now - last).count();
      std::fprintf(
          stderr,
          "wxgate-load: %6.1fs sent %llu completed %llu errors %llu in flight %llu, "
          "%.0f/s\n",
          std::chrono::duration<double>(now - start).count(), static_cast<unsigned long long>(sent),
          static_cast<unsigned long long>(completed), static_cast<unsigned long long>(failed),
          static_cast<unsigned long long>(sent - completed),
          dt > 0 ? static_cast<double>(completed - last_completed) / dt : 0.0);
      last_completed = completed;
      last = now;
    }
  }
  for (auto& thread : threads) thread.join();
  Clock::time_point end = Clock::now();

  RunStats stats;
  Clock::time_point last_send = start;
  for (auto& worker : workers) {
    stats.Merge(worker->stats());
    last_send = std::max(last_send, worker->last_send());
  }
  RunInfo info;
  info.target = options.target;
  info.threads = options.threads;
  info.channels = options.channels;
  info.concurrency = options.concurrency;
  info.rate = options.rate;
  info.deadline = options.deadline;
  info.elapsed = absl::FromChrono(end - start);
  info.sending = absl::FromChrono(last_send - start);
  info.interrupted = g_stop.load();
  std::string text = TextReport(info, stats);
  if (options.json) {
    std::fputs(text.c_str(), stderr);
    std::fputs(JsonReport(info, stats).c_str(), stdout);
  } else {
    std::fputs(text.c_str(), stdout);
  }
  std::fflush(stdout);
  RpcStats total = stats.Total();
  bool accounted = total.sent == total.completed && total.completed == total.by_code_sum();
  return accounted ? 0 : 1;
}

}  // namespace
}  // namespace wxgate::load

int main(int argc, char** argv) {
  const int exit_code = wxgate::load::Main(argc, argv);
  // Main's channels are gone; let gRPC finish shutting down before exiting.
  wxgate::AwaitGrpcShutdown(absl::Seconds(10));
  return exit_code;
}
