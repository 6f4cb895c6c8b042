// Micro-benchmarks of the crypto primitives on the official WeChat vectors.
// Run: build-*/tests/crypto/wxgate_bench_crypto

#include <string>

#include "absl/strings/escaping.h"
#include "benchmark/benchmark.h"
#include "server/crypto/aes_cbc.h"
#include "server/crypto/base64.h"
#include "server/crypto/digest.h"
#include "server/crypto/random.h"
#include "tests/crypto/official_vectors.h"

namespace wxgate::crypto {
namespace {

void BM_Base64DecodeEncryptedData(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<std::string> bytes = Base64Decode(vectors::kEncryptedData);
    benchmark::DoNotOptimize(bytes);
  }
  state.SetBytesProcessed(state.iterations() * vectors::kEncryptedData.size());
}
BENCHMARK(BM_Base64DecodeEncryptedData);

void BM_Base64DecodeSessionKey(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<std::string> bytes = Base64Decode(vectors::kSessionKey);
    benchmark::DoNotOptimize(bytes);
  }
}
BENCHMARK(BM_Base64DecodeSessionKey);

void BM_Aes128CbcDecryptOfficialVector(benchmark::State& state) {
  const std::string key = *Base64Decode(vectors::kSessionKey);
  const std::string iv = *Base64Decode(vectors::kIv);
  const std::string ciphertext = *Base64Decode(vectors::kEncryptedData);
  for (auto _ : state) {
    absl::StatusOr<std::string> plaintext = Aes128CbcDecrypt(key, iv, ciphertext);
    benchmark::DoNotOptimize(plaintext);
  }
  state.SetBytesProcessed(state.iterations() * ciphertext.size());
}
BENCHMARK(BM_Aes128CbcDecryptOfficialVector);

void BM_Sha1JsapiString(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Sha1Hex(vectors::kJsapiString1));
}
BENCHMARK(BM_Sha1JsapiString);

void BM_SecretFingerprint(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(SecretFingerprint(vectors::kSessionKey));
}
BENCHMARK(BM_SecretFingerprint);

// An audit line's subject: HMAC-SHA256 of an openid under the 32-byte audit key.
void BM_HmacSha256AuditSubject(benchmark::State& state) {
  const std::string key(32, 'k');
  for (auto _ : state) benchmark::DoNotOptimize(HmacSha256(key, "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"));
}
BENCHMARK(BM_HmacSha256AuditSubject);

void BM_ConstantTimeEquals40(benchmark::State& state) {
  const std::string a(vectors::kRawDataSignature);
  std::string b = a;
  b.back() ^= 1;
  for (auto _ : state) benchmark::DoNotOptimize(ConstantTimeEquals(a, b));
}
BENCHMARK(BM_ConstantTimeEquals40);

void BM_RandomAlphanumeric(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<std::string> nonce = RandomAlphanumeric(static_cast<size_t>(state.range(0)));
    benchmark::DoNotOptimize(nonce);
  }
}
BENCHMARK(BM_RandomAlphanumeric)->Arg(16)->Arg(32);

}  // namespace
}  // namespace wxgate::crypto

BENCHMARK_MAIN();
