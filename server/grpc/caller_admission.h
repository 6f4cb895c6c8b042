#ifndef WXGATE_SERVER_GRPC_CALLER_ADMISSION_H_
#define WXGATE_SERVER_GRPC_CALLER_ADMISSION_H_

#include <atomic>
#include <memory>

#include "server/callers/caller_policy.h"
#include "server/grpc/call.h"

namespace wxgate::rpc {

// The Admission of wxgate's methods: reads who is calling from the call (the
// URI and DNS SANs of a client certificate gRPC verified, the
// `authorization` metadata) and asks the caller policy. The policy is
// swapped whole by a reload; each call keeps the one it was admitted by.
//
// Thread contract: Admit on any CQ thread, Update from any thread.
class CallerAdmission final : public Admission {
 public:
  explicit CallerAdmission(std::shared_ptr<const callers::CallerPolicy> policy)
      : policy_(std::move(policy)) {}

  absl::Status Admit(CallContext& call, absl::string_view app) const override;

  // Calls from now on are checked against `policy`.
  void Update(std::shared_ptr<const callers::CallerPolicy> policy) {
    policy_.store(std::move(policy), std::memory_order_release);
  }
  std::shared_ptr<const callers::CallerPolicy> policy() const {
    return policy_.load(std::memory_order_acquire);
  }

 private:
  std::atomic<std::shared_ptr<const callers::CallerPolicy>> policy_;
};

}  // namespace wxgate::rpc

#endif  // WXGATE_SERVER_GRPC_CALLER_ADMISSION_H_
