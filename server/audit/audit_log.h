#ifndef WXGATE_SERVER_AUDIT_AUDIT_LOG_H_
#define WXGATE_SERVER_AUDIT_AUDIT_LOG_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/audit/audit_line.h"
#include "server/metrics/metrics.h"

namespace wxgate::audit {

// The audit trail: one JSON line (FormatAuditLine) per audited call, appended
// to a file or, with none configured, written to wxgate's log as
// "audit: {...}".
//
// Append never blocks on I/O: it moves the record into a bounded queue that
// the log's own writer thread drains; hashing and formatting happen there
// too, off the completion-queue threads. Lines are never lost silently: a
// line that finds the queue full, or whose write fails (disk full, a file
// gone bad), is dropped, counted in dropped_lines(), and reported in wxgate's
// log at most once a second per cause with the number dropped since the
// previous report. The file gets whole lines, several per write(2), and no
// fsync: the trail is as durable as the page cache, like any log file.
//
// Thread contract: Append, Reopen, Flush and the counters may be called from
// any thread, concurrently. Destruction must not race any of them; it drains
// the queue, waiting at most Options::shutdown_timeout (see ~AuditLog).
class AuditLog {
 public:
  struct Options {
    // Appended to (created 0640 if absent). Empty: lines go to the log.
    std::string file;
    // Lines waiting for the writer; an Append beyond this is dropped.
    size_t max_queued_lines = 65536;
    // How long destruction waits for the queue to drain.
    absl::Duration shutdown_timeout = absl::Seconds(5);
  };

  // Opens the file and starts the writer thread. An unopenable file is an
  // error naming its path.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(Options options);

  // Waits up to shutdown_timeout for what is queued to be written, then stops
  // the writer thread. If the writer is stuck in a write that does not return
  // (a hung network filesystem), it is left behind, detached: the lines not
  // yet written are counted as lost in one error log line, destruction
  // returns, and the thread exits (closing the file) if its write ever
  // returns, without writing anything more.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues one line. `hasher` hashes the record's subject ids: pass the one
  // of the config snapshot the call started with, so a reload that changes
  // the key does not change it under calls in flight. A null `hasher` is a
  // bug; such a line is dropped and reported like any other.
  void Append(AuditRecord record, std::shared_ptr<const SubjectHasher> hasher);

  // Reopens the file by its path, for logrotate's rename-then-SIGHUP: opened
  // here, on the calling thread, and handed to the writer thread, which
  // closes the old one and writes every line appended after this returns to
  // the new one (lines still queued go there too). An unopenable file is an
  // error naming its path, and the old file stays in use. Without a file, a
  // no-op.
  absl::Status Reopen();

  // Waits until every line appended before the call is written or dropped;
  // false when `timeout` passed first. For tests, and before a shutdown.
  bool Flush(absl::Duration timeout);

  // Lines written, and lines dropped (queue full, failed write, abandoned at
  // shutdown), since Open. For metrics.
  int64_t written_lines() const;
  int64_t dropped_lines() const;
  // Lines waiting for the writer thread (not those it is writing).
  size_t queued_lines() const;

 private:
  class Writer;

  explicit AuditLog(std::shared_ptr<Writer> writer);

  // Shared with the writer thread, so that a writer abandoned at shutdown
  // keeps what it touches alive until its write returns.
  std::shared_ptr<Writer> writer_;
  std::thread thread_;
};

// wxgate_audit_lines_dropped_total from `log` at every scrape of
// `registry`, until the handle goes; `log` must outlive it.
metrics::CollectorHandle ExposeDroppedLines(const AuditLog& log, metrics::Registry& registry);

}  // namespace wxgate::audit

#endif  // WXGATE_SERVER_AUDIT_AUDIT_LOG_H_
