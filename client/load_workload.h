#ifndef WXGATE_CLIENT_LOAD_WORKLOAD_H_
#define WXGATE_CLIENT_LOAD_WORKLOAD_H_

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace wxgate::load {

// Every RPC wxgate-load can drive: the nine of wxgate.v1 plus grpc.health.v1
// Check, the trivial-RPC reference.
enum class Rpc : int {
  kHealth,
  kSignJsapi,
  kSignAgent,
  kToken,
  kCode2Session,
  kWeComCode2Session,
  kDecrypt,
  kPhone,
  kExternalContact,
  kKfCustomers,
};
inline constexpr int kRpcCount = 10;

absl::string_view RpcName(Rpc rpc);     // "sign-jsapi", as in --mix
const std::string& RpcMethod(Rpc rpc);  // "/wxgate.v1.SignatureService/SignJsapiConfig"
std::optional<Rpc> ParseRpc(absl::string_view name);
// The code-exchange RPCs take a fresh single-use code from the pool per call.
bool TakesCode(Rpc rpc);

// One single-use code from --codes-file: "RPC APP CODE [USER]".
struct Code {
  std::string app;
  std::string code;
  // code2session: the openid the answer must carry; wecom-code2session: the
  // user_id it must carry; phone: sent as the request's openid (the code is
  // bound to it). Empty: not checked / not sent.
  std::string user;
};

// A pool of codes for one RPC, shared by every worker thread: each code is
// handed out once.
class CodePool {
 public:
  void Add(Code code) { codes_.push_back(std::move(code)); }
  // The next unused code, or nullptr once all are taken.
  const Code* Take() {
    size_t i = next_.fetch_add(1, std::memory_order_relaxed);
    return i < codes_.size() ? &codes_[i] : nullptr;
  }
  size_t size() const { return codes_.size(); }
  size_t left() const {
    size_t taken = next_.load(std::memory_order_relaxed);
    return taken >= codes_.size() ? 0 : codes_.size() - taken;
  }

 private:
  std::vector<Code> codes_;
  std::atomic<size_t> next_{0};
};

// One prepared request: its serialized bytes (sent as they are by every
// call) and what an OK answer must show.
struct Prepared {
  grpc::Slice bytes;   // reference-counted: a call's ByteBuffer shares it
  std::string expect;  // external-contact: the external_userid; decrypt: the openid
  int kf_ids = 0;      // kf-customers: how many ids were asked for
};

// The requests of a run: per RPC the fixture's prepared requests and, for the
// code exchanges, the code pool. Immutable once loaded, except the pools.
class Workload {
 public:
  // Reads the fixture: a JSON object mapping RPC names to arrays of request
  // messages in proto JSON, e.g. {"sign-jsapi":[{"app":"news","url":"..."}]}.
  // Code-exchange entries are ignored (their requests come from the codes).
  // Entries for an RPC replace the built-in default of that RPC.
  absl::Status LoadFixture(absl::string_view json, absl::string_view origin);
  // Reads --codes-file: one code per line, "RPC APP CODE [USER]"; '#' starts
  // a comment line.
  absl::Status LoadCodes(absl::string_view text, absl::string_view origin);

  const std::vector<Prepared>& requests(Rpc rpc) const { return fixture_[Index(rpc)]; }
  CodePool& codes(Rpc rpc) { return pools_[Index(rpc)]; }
  const CodePool& codes(Rpc rpc) const { return pools_[Index(rpc)]; }

  // The built-in fixture: the apps of deploy/demo.textproto, for the RPCs
  // that need no per-run data (health, sign-jsapi, sign-agent, token).
  static constexpr absl::string_view kDefaultFixture = R"json({
    "health": [{}],
    "sign-jsapi": [{"app": "news", "url": "https://news.example.com/article/1?from=load"},
                   {"app": "sidebar", "url": "https://cs.example.com/sidebar?chat=1"}],
    "sign-agent": [{"app": "sidebar", "url": "https://cs.example.com/sidebar?chat=1"},
                   {"app": "crm", "url": "https://cs.example.com/crm"}],
    "token": [{"app": "news"}]
  })json";

 private:
  static int Index(Rpc rpc) { return static_cast<int>(rpc); }
  std::array<std::vector<Prepared>, kRpcCount> fixture_;
  std::array<CodePool, kRpcCount> pools_;
};

// The serialized request of a code-exchange call.
std::string CodeRequest(Rpc rpc, const Code& code);

// Whether an OK answer's bytes are a well-formed answer to the request:
// parses and checks the fields every success carries (a signature of 40 hex
// characters, a token, the openid the code was minted for...). An empty
// string means fine; otherwise what is wrong.
std::string CheckAnswer(Rpc rpc, grpc::ByteBuffer& answer, const Prepared* prepared,
                        const Code* code);

// A ByteBuffer of the serialized bytes: shares `bytes`, copies `text`.
grpc::ByteBuffer ToByteBuffer(const grpc::Slice& bytes);
grpc::ByteBuffer ToByteBuffer(const std::string& text);

}  // namespace wxgate::load

#endif  // WXGATE_CLIENT_LOAD_WORKLOAD_H_
