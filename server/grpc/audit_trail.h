#ifndef WXGATE_SERVER_GRPC_AUDIT_TRAIL_H_
#define WXGATE_SERVER_GRPC_AUDIT_TRAIL_H_

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "server/audit/audit_log.h"
#include "server/common/errors.h"
#include "server/grpc/audit_subjects.h"
#include "server/grpc/call.h"

namespace wxgate::rpc {

// The audit step of the call template: an Observer (call.h) on every audited
// method (audit_subjects.h lists them) that appends one record per answered
// call, refused ones included, to the audit log. Cheap on the completion
// queue: the record is moved into the log's queue; hashing and writing
// happen on the log's thread.
//
// Thread contract: Record from any CQ thread; SetHasher from any thread (a
// reload's new subject key applies to calls answered afterwards).
class AuditTrail {
 public:
  AuditTrail(audit::AuditLog& log, std::shared_ptr<const audit::SubjectHasher> hasher)
      : log_(log), hasher_(std::move(hasher)) {}

  void SetHasher(std::shared_ptr<const audit::SubjectHasher> hasher) {
    hasher_.store(std::move(hasher), std::memory_order_release);
  }

  template <class Request, class Response>
  void Record(const CallContext& call, const Request& request,
              const absl::StatusOr<Response>& result) const {
    AuditSubjects subjects = SubjectsOf(request, result);
    audit::AuditRecord record{
        .time = absl::Now(),
        .request_id = std::string(call.request_id()),
        .caller = CallerOf(call, result.status()),
        .peer = call.peer(),
        .app = request.app(),
        .method = std::string(call.method()),
        .code = result.status().code(),
        .subject_ids = std::move(subjects.ids),
        .batch = subjects.batch,
    };
    log_.Append(std::move(record), hasher_.load(std::memory_order_acquire));
  }

 private:
  // The admitted caller; for a call the caller check refused, the caller it
  // named (a known caller not allowed, or over its rate), else "".
  static std::string CallerOf(const CallContext& call, const absl::Status& status);

  audit::AuditLog& log_;
  std::atomic<std::shared_ptr<const audit::SubjectHasher>> hasher_;
};

}  // namespace wxgate::rpc

#endif  // WXGATE_SERVER_GRPC_AUDIT_TRAIL_H_
