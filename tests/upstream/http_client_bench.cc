// CurlHttpClient against the emulator: the cost of a request on a reused
// connection, of bursts, and of a cold client (new connection, trust store
// loaded). Run by hand; not a ctest test.
//
//   build-http/tests/upstream/wxgate_bench_http_client
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "server/upstream/curl_http_client.h"
#include "tests/support/emulator_process.h"

namespace wxgate::upstream {
namespace {

test::EmulatorProcess* g_emulator = nullptr;

HttpRequest HealthRequest() {
  HttpRequest request;
  request.url = absl::StrCat(g_emulator->base_url(), "/_emu/health");
  request.endpoint = "_emu/health";
  return request;
}

CurlHttpClientOptions Options() {
  CurlHttpClientOptions options;
  options.extra_ca_file = g_emulator->ca_file();
  options.timeout = absl::Seconds(60);
  options.connect_timeout = absl::Seconds(30);
  return options;
}

// Starts `n` transfers at once and waits for all; false if any failed.
bool Burst(HttpClient& client, int n) {
  absl::Mutex mu;
  int done = 0;
  bool ok = true;
  for (int i = 0; i < n; ++i) {
    client.Start(HealthRequest(), [&](absl::StatusOr<HttpResponse> response) {
      absl::MutexLock lock(&mu);
      ok = ok && response.ok() && response->status == 200;
      ++done;
    });
  }
  absl::MutexLock lock(&mu);
  auto all = [&]() { return done == n; };
  mu.Await(absl::Condition(&all));
  return ok;
}

void BM_ReusedConnection(benchmark::State& state) {
  std::unique_ptr<CurlHttpClient> client = *CurlHttpClient::Create(Options());
  Burst(*client, 1);  // connect outside the timing
  for (auto _ : state) {
    if (!Burst(*client, 1)) state.SkipWithError("request failed");
  }
  state.counters["connections"] = static_cast<double>(client->stats().connections_opened);
}
BENCHMARK(BM_ReusedConnection)->UseRealTime();

// `range(0)` transfers at once on a client whose connections are warm.
void BM_WarmBurst(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::unique_ptr<CurlHttpClient> client = *CurlHttpClient::Create(Options());
  Burst(*client, n);
  for (auto _ : state) {
    if (!Burst(*client, n)) state.SkipWithError("request failed");
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["connections"] = static_cast<double>(client->stats().connections_opened);
}
BENCHMARK(BM_WarmBurst)->Arg(16)->Arg(200)->UseRealTime();

// A new client per iteration: trust store read, TLS store parsed once,
// `range(0)` new connections. What a restart or a burst of new connections
// costs the curl thread.
void BM_ColdClient(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    std::unique_ptr<CurlHttpClient> client = *CurlHttpClient::Create(Options());
    if (!Burst(*client, n)) state.SkipWithError("request failed");
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ColdClient)->Arg(1)->Arg(200)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace wxgate::upstream

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  absl::StatusOr<std::unique_ptr<wxgate::test::EmulatorProcess>> emulator =
      wxgate::test::EmulatorProcess::Start();
  if (!emulator.ok()) {
    std::fprintf(stderr, "cannot start the emulator: %s\n", emulator.status().ToString().c_str());
    return 1;
  }
  wxgate::upstream::g_emulator = emulator->get();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
