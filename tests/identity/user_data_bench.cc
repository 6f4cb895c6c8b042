// Micro-benchmark of DecryptUserData on the official vector: base64, AES,
// JSON and watermark, as the RPC does it minus the session lookup.
// Run: build-*/tests/identity/wxgate_bench_user_data

#include "benchmark/benchmark.h"
#include "server/identity/user_data.h"
#include "tests/crypto/official_vectors.h"

namespace wxgate::identity {
namespace {

void BM_DecryptUserDataOfficialVector(benchmark::State& state) {
  UserDataInput input;
  input.session_key = vectors::kSessionKey;
  input.encrypted_data = vectors::kEncryptedData;
  input.iv = vectors::kIv;
  input.expected_appid = vectors::kAppId;
  for (auto _ : state) {
    absl::StatusOr<UserData> data = DecryptUserData(input);
    benchmark::DoNotOptimize(data);
  }
}
BENCHMARK(BM_DecryptUserDataOfficialVector);

void BM_ParseUserDataJson(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<UserData> data = ParseUserDataJson(vectors::kPlaintext);
    benchmark::DoNotOptimize(data);
  }
}
BENCHMARK(BM_ParseUserDataJson);

}  // namespace
}  // namespace wxgate::identity

BENCHMARK_MAIN();
