#include "server/audit/audit_log.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <tuple>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/common/log.h"
#include "server/common/thread_name.h"

namespace wxgate::audit {
namespace {

// Lines are gathered into writes of about this size: few system calls under
// load, and a bounded buffer however long the queue.
constexpr size_t kWriteChunk = size_t{64} * 1024;

absl::StatusOr<int> OpenAuditFile(const std::string& path) {
  // 0640: the trail holds no id in clear, and a log shipper in the file's
  // group may read it; nobody else needs to.
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open audit file ", path));
  return fd;
}

// Reports lines dropped for one cause in wxgate's log, at most once a second,
// each report with the number dropped since the previous one, so that a full
// disk under load neither floods the log nor hides how much was lost.
// Thread-safe.
class DropReport {
 public:
  explicit DropReport(absl::string_view cause) : cause_(cause) {}

  // `lines` more were dropped; `total` is the log's dropped count after them;
  // `detail` says why (an errno text), or is empty.
  void Add(int64_t lines, int64_t total, absl::string_view detail) {
    {
      absl::MutexLock lock(&mu_);
      unreported_ += lines;
    }
    int64_t held_back = 0;
    if (limiter_.Allow(held_back)) Report(total, detail);
  }

  // Reports what the rate limit held back; at shutdown.
  void ReportRest(int64_t total) { Report(total, ""); }

 private:
  void Report(int64_t total, absl::string_view detail) {
    int64_t lines;
    {
      absl::MutexLock lock(&mu_);
      lines = std::exchange(unreported_, 0);
    }
    if (lines == 0) return;
    Log(LogSeverity::kError, "audit: lines dropped since the last report: %d (%s%s%s); in all: %d",
        lines, cause_, detail.empty() ? "" : ": ", detail, total);
  }

  const std::string cause_;
  LogRateLimiter limiter_{1};
  absl::Mutex mu_;
  int64_t unreported_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

// The queue, the counters and the writer thread's loop.
//
// Thread contract: Run is the writer thread; fd_ and torn_ are touched only
// there (and by the destructor, which runs when the thread is done with the
// object). Everything else is guarded by mu_.
class AuditLog::Writer {
 public:
  Writer(Options options, int fd) : options_(std::move(options)), fd_(fd) {}

  ~Writer() {
    if (fd_ >= 0) close(fd_);
    if (pending_fd_ >= 0) close(pending_fd_);
  }

  const Options& options() const { return options_; }

  void Append(AuditRecord record, std::shared_ptr<const SubjectHasher> hasher) {
    int64_t total;
    {
      absl::MutexLock lock(&mu_);
      if (queue_.size() < options_.max_queued_lines) {
        queue_.push_back({std::move(record), std::move(hasher)});
        ++queued_;
        return;
      }
      total = ++dropped_;
    }
    queue_full_.Add(1, total, "");
  }

  // Hands a newly opened file to the writer thread.
  void Install(int fd) {
    int replaced;
    {
      absl::MutexLock lock(&mu_);
      replaced = std::exchange(pending_fd_, fd);
    }
    // Two reopens before the writer took the first: the first is stale.
    if (replaced >= 0) close(replaced);
  }

  bool Flush(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    const int64_t target = queued_;
    auto done = [this, target]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return processed_ >= target; };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }

  // Lets the writer drain the queue and exit, waiting up to `timeout`.
  // Returns false, with the lines not written counted as dropped in
  // `abandoned`, when the writer did not exit in time: it is then abandoned,
  // and stops at its next chance without writing or counting anything more.
  bool Stop(absl::Duration timeout, int64_t& abandoned) {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (mu_.AwaitWithTimeout(absl::Condition(&exited_), timeout)) return true;
    abandoned_ = true;
    abandoned = queued_ - processed_;
    dropped_ += abandoned;
    return false;
  }

  // Logs the drops the rate limit held back.
  void ReportRest() {
    const int64_t total = dropped_lines();
    queue_full_.ReportRest(total);
    write_failed_.ReportRest(total);
    no_key_.ReportRest(total);
  }

  int64_t written_lines() const {
    absl::MutexLock lock(&mu_);
    return written_;
  }
  int64_t dropped_lines() const {
    absl::MutexLock lock(&mu_);
    return dropped_;
  }
  size_t queued_lines() const {
    absl::MutexLock lock(&mu_);
    return queue_.size();
  }

  // The writer thread.
  void Run() {
    NameThisThread("wxgate-audit");
    // A write to a FIFO whose reader is gone, or past the file size limit,
    // raises SIGPIPE or SIGXFSZ, which would end wxgate. Both are sent to the
    // writing thread, and this is the only one writing the trail: blocked
    // here, they leave the write failing with EPIPE or EFBIG, counted and
    // reported like any failed write.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGPIPE);
    sigaddset(&signals, SIGXFSZ);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    for (;;) {
      std::deque<Queued> batch;
      int new_fd = -1;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &Writer::HasWork));
        // One wakeup per batch, not per line: a line that finds the writer
        // idle wakes it, and it lingers briefly for the lines right behind.
        mu_.AwaitWithTimeout(absl::Condition(this, &Writer::BatchReady), kLinger);
        if (abandoned_ || (stopping_ && queue_.empty() && pending_fd_ < 0)) {
          exited_ = true;
          return;
        }
        batch.swap(queue_);
        new_fd = std::exchange(pending_fd_, -1);
      }
      if (new_fd >= 0) {
        if (fd_ >= 0) close(fd_);
        fd_ = new_fd;
        torn_ = false;
      }
      const Outcome outcome = Write(batch);
      int64_t total;
      {
        absl::MutexLock lock(&mu_);
        if (abandoned_) {
          exited_ = true;
          return;
        }
        processed_ += static_cast<int64_t>(batch.size());
        written_ += outcome.written;
        dropped_ += outcome.failed + outcome.no_key;
        total = dropped_;
      }
      if (outcome.failed > 0) write_failed_.Add(outcome.failed, total, outcome.error);
      if (outcome.no_key > 0) no_key_.Add(outcome.no_key, total, "");
    }
  }

 private:
  struct Queued {
    AuditRecord record;
    std::shared_ptr<const SubjectHasher> hasher;
  };

  struct Outcome {
    int64_t written = 0;
    int64_t failed = 0;  // lines whose write failed
    int64_t no_key = 0;  // lines appended without a hasher
    std::string error;   // why the last failed write failed
  };

  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || pending_fd_ >= 0 || stopping_;
  }
  bool BatchReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return queue_.size() >= kBatchLines || pending_fd_ >= 0 || stopping_ || abandoned_;
  }
  static constexpr size_t kBatchLines = 256;
  static constexpr absl::Duration kLinger = absl::Milliseconds(1);

  Outcome Write(const std::deque<Queued>& batch) {
    Outcome outcome;
    std::string chunk;
    for (const Queued& queued : batch) {
      if (queued.hasher == nullptr) {
        ++outcome.no_key;
        continue;
      }
      std::string line = FormatAuditLine(queued.record, *queued.hasher);
      if (fd_ < 0) {
        line.pop_back();  // AppendLogLine ends the line itself
        // Not subject to the minimum severity, which only thins wxgate's own
        // chatter; written with the batch's other lines.
        AppendLogLine(chunk, LogSeverity::kInfo, absl::StrCat("audit: ", line));
        ++outcome.written;
        continue;
      }
      chunk.append(line);
      if (chunk.size() >= kWriteChunk) {
        WriteToFile(chunk, outcome);
        chunk.clear();
      }
    }
    if (fd_ < 0) {
      WriteLogLines(chunk);
    } else if (!chunk.empty()) {
      WriteToFile(chunk, outcome);
    }
    return outcome;
  }

  // Writes whole lines to the file, counting in `outcome` those that reached
  // it (every line ends in the only '\n' it holds) and those that did not.
  void WriteToFile(absl::string_view lines, Outcome& outcome) {
    const int64_t count = std::count(lines.begin(), lines.end(), '\n');
    int error = 0;
    // A failed write that stopped mid-line left a fragment at the end of the
    // file: end it, so that the next line starts a line of its own.
    if (torn_) {
      error = WriteAll("\n").second;
      if (error == 0) torn_ = false;
    }
    size_t done = 0;
    if (error == 0) std::tie(done, error) = WriteAll(lines);
    const int64_t written = std::count(lines.begin(), lines.begin() + done, '\n');
    if (done > 0 && lines[done - 1] != '\n') torn_ = true;
    outcome.written += written;
    if (error != 0) {
      outcome.failed += count - written;
      outcome.error = std::string(
          absl::ErrnoToStatus(error, absl::StrCat("writing ", options_.file)).message());
    }
  }

  // write(2) until all of `data` is written or it fails: how many bytes were
  // written, and the errno of the failure (0 on success).
  std::pair<size_t, int> WriteAll(absl::string_view data) {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = write(fd_, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      // 0 for a non-empty write would loop for ever; treat it as an I/O error.
      if (n <= 0) return {done, n < 0 ? errno : EIO};
      done += static_cast<size_t>(n);
    }
    return {done, 0};
  }

  const Options options_;

  mutable absl::Mutex mu_;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  // Opened by Reopen, not yet taken by the writer thread; -1 when none.
  int pending_fd_ ABSL_GUARDED_BY(mu_) = -1;
  // Lines ever queued, and how many of them the writer has finished
  // (written or dropped): in order, so Flush waits for the second to reach
  // the first.
  int64_t queued_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t processed_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool abandoned_ ABSL_GUARDED_BY(mu_) = false;
  bool exited_ ABSL_GUARDED_BY(mu_) = false;

  DropReport queue_full_{"the queue is full"};
  DropReport write_failed_{"the write failed"};
  DropReport no_key_{"appended without a subject key (a bug)"};

  // Writer thread only. -1: lines go to the log.
  int fd_;
  // The file ends in a fragment of a line whose write failed.
  bool torn_ = false;
};

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(Options options) {
  int fd = -1;
  if (!options.file.empty()) {
    absl::StatusOr<int> opened = OpenAuditFile(options.file);
    if (!opened.ok()) return opened.status();
    fd = *opened;
  }
  return std::unique_ptr<AuditLog>(new AuditLog(std::make_shared<Writer>(std::move(options), fd)));
}

AuditLog::AuditLog(std::shared_ptr<Writer> writer)
    : writer_(std::move(writer)), thread_([writer = writer_] { writer->Run(); }) {}

AuditLog::~AuditLog() {
  int64_t abandoned = 0;
  if (writer_->Stop(writer_->options().shutdown_timeout, abandoned)) {
    thread_.join();
  } else {
    // The thread holds its own reference to the writer and ends when its
    // write returns; waiting longer would hang shutdown on a dead disk.
    thread_.detach();
    const Options& options = writer_->options();
    Log(LogSeverity::kError, "audit: writing to %s did not finish within %s; %d lines abandoned",
        options.file.empty() ? "the log" : options.file,
        absl::FormatDuration(options.shutdown_timeout), abandoned);
  }
  writer_->ReportRest();
}

void AuditLog::Append(AuditRecord record, std::shared_ptr<const SubjectHasher> hasher) {
  writer_->Append(std::move(record), std::move(hasher));
}

absl::Status AuditLog::Reopen() {
  if (writer_->options().file.empty()) return absl::OkStatus();
  absl::StatusOr<int> fd = OpenAuditFile(writer_->options().file);
  if (!fd.ok()) return fd.status();
  writer_->Install(*fd);
  return absl::OkStatus();
}

bool AuditLog::Flush(absl::Duration timeout) { return writer_->Flush(timeout); }

int64_t AuditLog::written_lines() const { return writer_->written_lines(); }

int64_t AuditLog::dropped_lines() const { return writer_->dropped_lines(); }

size_t AuditLog::queued_lines() const { return writer_->queued_lines(); }

metrics::CollectorHandle ExposeDroppedLines(const AuditLog& log, metrics::Registry& registry) {
  return metrics::CollectorHandle(registry, [&log](metrics::TextWriter& out) {
    out.Family("wxgate_audit_lines_dropped_total",
               "Audit lines dropped: the writer fell behind or could not write.",
               metrics::MetricType::kCounter);
    out.Sample("wxgate_audit_lines_dropped_total", {}, static_cast<double>(log.dropped_lines()));
  });
}

}  // namespace wxgate::audit
