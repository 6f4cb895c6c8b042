// Micro-benchmarks of JS-SDK signing on the official vector.
// Run: build-*/tests/signature/wxgate_bench_signature

#include "benchmark/benchmark.h"
#include "server/signature/jsapi_signature.h"
#include "server/signature/page_url.h"
#include "tests/crypto/official_vectors.h"

namespace wxgate::signature {
namespace {

void BM_JsapiSignature(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(JsapiSignature(vectors::kJsapiTicket, vectors::kJsapiNonce,
                                            vectors::kJsapiTimestamp, vectors::kJsapiUrl));
  }
}
BENCHMARK(BM_JsapiSignature);

void BM_NormalizePageUrl(benchmark::State& state) {
  constexpr absl::string_view kUrl =
      "https://shop.example.com/pages/item.html?id=12345&from=timeline&isappinstalled=0#top";
  for (auto _ : state) benchmark::DoNotOptimize(NormalizePageUrl(kUrl));
}
BENCHMARK(BM_NormalizePageUrl);

// What SignJsapiConfig computes besides the ticket lookup and the nonce.
void BM_NormalizeCheckAndSign(benchmark::State& state) {
  const std::vector<std::string> patterns = {"mp.weixin.qq.com", "*.example.com"};
  for (auto _ : state) {
    absl::StatusOr<PageUrl> page = NormalizePageUrl("http://mp.weixin.qq.com?params=value#x");
    bool allowed = page.ok() && HostAllowed(page->host, patterns);
    benchmark::DoNotOptimize(allowed);
    benchmark::DoNotOptimize(JsapiSignature(vectors::kJsapiTicket, vectors::kJsapiNonce,
                                            vectors::kJsapiTimestamp, page->url_to_sign));
  }
}
BENCHMARK(BM_NormalizeCheckAndSign);

}  // namespace
}  // namespace wxgate::signature

BENCHMARK_MAIN();
