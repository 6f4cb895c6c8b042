#include "server/audit/audit_log.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/json.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace wxgate::audit {
namespace {

// A bound on waits that end long before it.
constexpr absl::Duration kBound = absl::Seconds(30);

std::shared_ptr<const SubjectHasher> Hasher(std::string key = "audit-test-key-0123456789") {
  return std::make_shared<const SubjectHasher>(std::move(key));
}

AuditRecord Record(std::string caller, std::string subject_id) {
  AuditRecord record;
  record.time = absl::Now();
  record.caller = std::move(caller);
  record.peer = "ipv4:127.0.0.1:40000";
  record.app = "shop";
  record.method = "wxgate.v1.IdentityService/GetPhoneNumber";
  record.subject_ids = {std::move(subject_id)};
  return record;
}

std::unique_ptr<AuditLog> OpenLog(AuditLog::Options options) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(std::move(options));
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? *std::move(log) : nullptr;
}

// The file's lines, without their '\n'.
std::vector<std::string> FileLines(const std::string& path) {
  absl::StatusOr<std::string> text = test::ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status();
  if (!text.ok() || text->empty()) return {};
  EXPECT_EQ(text->back(), '\n') << "a line is cut short in " << path;
  std::vector<std::string> lines = absl::StrSplit(*text, '\n');
  lines.pop_back();
  return lines;
}

test::JsonDoc Parse(absl::string_view line) {
  absl::StatusOr<test::JsonDoc> doc = test::JsonDoc::Parse(line);
  EXPECT_TRUE(doc.ok()) << doc.status() << " in " << line;
  return doc.ok() ? *std::move(doc) : test::JsonDoc();
}

// The sum of the counts in the log's drop reports for `cause`: what the
// reports told an operator was lost.
int64_t ReportedDrops(absl::string_view log, absl::string_view cause) {
  constexpr absl::string_view kReport = "audit: lines dropped since the last report: ";
  int64_t sum = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    const size_t at = line.find(kReport);
    if (at == absl::string_view::npos || line.find(cause) == absl::string_view::npos) continue;
    absl::string_view count = line.substr(at + kReport.size());
    count = count.substr(0, count.find(' '));
    int64_t n = 0;
    EXPECT_TRUE(absl::SimpleAtoi(count, &n)) << line;
    sum += n;
  }
  return sum;
}

// Each test gets a fresh directory, removed afterwards, and a path in it.
class AuditLogTest : public testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<test::TempDir> dir = test::TempDir::Create("wxgate-audit");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_.emplace(*std::move(dir));
    path_ = dir_->File("audit.jsonl");
  }

  std::optional<test::TempDir> dir_;
  std::string path_;
};

TEST_F(AuditLogTest, FileSinkAppendsWholeLines) {
  ASSERT_TRUE(dir_->WriteFile("audit.jsonl", "an earlier line\n").ok());
  const auto hasher = Hasher();
  std::unique_ptr<AuditLog> log = OpenLog({.file = path_});
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 3; ++i) {
    log->Append(Record(absl::StrCat("caller-", i), absl::StrCat("openid-", i)), hasher);
  }
  ASSERT_TRUE(log->Flush(kBound));
  EXPECT_EQ(log->written_lines(), 3);
  EXPECT_EQ(log->dropped_lines(), 0);

  const std::vector<std::string> lines = FileLines(path_);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "an earlier line");
  for (int i = 0; i < 3; ++i) {
    const test::JsonDoc doc = Parse(lines[i + 1]);
    EXPECT_EQ(doc.Str("/caller"), absl::StrCat("caller-", i));
    EXPECT_EQ(doc.Str("/subject"), hasher->Hash(absl::StrCat("openid-", i)));
    EXPECT_EQ(lines[i + 1].find("openid-"), std::string::npos);
  }
}

TEST_F(AuditLogTest, DestructionWritesWhatIsQueued) {
  std::unique_ptr<AuditLog> log = OpenLog({.file = path_});
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 500; ++i) log->Append(Record("c", absl::StrCat(i)), Hasher());
  log.reset();
  EXPECT_EQ(FileLines(path_).size(), 500u);
}

// The key is the one each line was appended with: a reload changing it does
// not rehash lines already queued.
TEST_F(AuditLogTest, EachLineIsHashedWithTheKeyItWasAppendedWith) {
  const auto before = Hasher("key-before-reload-0123");
  const auto after = Hasher("key-after-reload-45678");
  std::unique_ptr<AuditLog> log = OpenLog({.file = path_});
  ASSERT_NE(log, nullptr);
  log->Append(Record("c", "openid-1"), before);
  log->Append(Record("c", "openid-1"), after);
  ASSERT_TRUE(log->Flush(kBound));
  const std::vector<std::string> lines = FileLines(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(Parse(lines[0]).Str("/subject"), before->Hash("openid-1"));
  EXPECT_EQ(Parse(lines[1]).Str("/subject"), after->Hash("openid-1"));
  EXPECT_NE(before->Hash("openid-1"), after->Hash("openid-1"));
}

// logrotate renames the file, then wxgate reopens its path on SIGHUP.
TEST_F(AuditLogTest, ReopenAfterRenameWritesToTheNewFile) {
  const std::string rotated = dir_->File("audit.jsonl.1");
  std::unique_ptr<AuditLog> log = OpenLog({.file = path_});
  ASSERT_NE(log, nullptr);
  log->Append(Record("before-rename", "a"), Hasher());
  ASSERT_TRUE(log->Flush(kBound));
  ASSERT_EQ(std::rename(path_.c_str(), rotated.c_str()), 0);
  log->Append(Record("after-rename", "b"), Hasher());
  ASSERT_TRUE(log->Flush(kBound));
  ASSERT_TRUE(log->Reopen().ok());
  log->Append(Record("after-reopen", "c"), Hasher());
  ASSERT_TRUE(log->Flush(kBound));

  const std::vector<std::string> old_lines = FileLines(rotated);
  ASSERT_EQ(old_lines.size(), 2u);
  EXPECT_EQ(Parse(old_lines[0]).Str("/caller"), "before-rename");
  EXPECT_EQ(Parse(old_lines[1]).Str("/caller"), "after-rename");
  const std::vector<std::string> new_lines = FileLines(path_);
  ASSERT_EQ(new_lines.size(), 1u);
  EXPECT_EQ(Parse(new_lines[0]).Str("/caller"), "after-reopen");
  EXPECT_EQ(log->written_lines(), 3);
}

TEST_F(AuditLogTest, FailedReopenNamesThePathAndKeepsTheOldFile) {
  ASSERT_EQ(mkdir(dir_->File("logs").c_str(), 0700), 0);
  const std::string path = dir_->File("logs/audit.jsonl");
  std::unique_ptr<AuditLog> log = OpenLog({.file = path});
  ASSERT_NE(log, nullptr);
  ASSERT_EQ(std::rename(dir_->File("logs").c_str(), dir_->File("moved").c_str()), 0);

  const absl::Status reopened = log->Reopen();
  EXPECT_FALSE(reopened.ok());
  EXPECT_NE(reopened.message().find(path), std::string::npos) << reopened;
  log->Append(Record("still-written", "a"), Hasher());
  ASSERT_TRUE(log->Flush(kBound));
  const std::vector<std::string> lines = FileLines(dir_->File("moved/audit.jsonl"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Parse(lines[0]).Str("/caller"), "still-written");
}

TEST_F(AuditLogTest, AnUnopenableFileIsAnErrorNamingIt) {
  const std::string path = dir_->File("missing-dir/audit.jsonl");
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open({.file = path});
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find(path), std::string::npos) << log.status();
}

TEST_F(AuditLogTest, WithoutAFileLinesGoToTheLog) {
  const auto hasher = Hasher();
  testing::internal::CaptureStderr();
  std::unique_ptr<AuditLog> log = OpenLog({});
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(log->Reopen().ok());
  AuditRecord record = Record("log-sink", "openid-in-the-log");
  record.peer = "ipv4:1.2.3.4:5\nforged line";
  log->Append(record, hasher);
  ASSERT_TRUE(log->Flush(kBound));
  EXPECT_EQ(log->written_lines(), 1);
  log.reset();
  const std::string err = testing::internal::GetCapturedStderr();

  constexpr absl::string_view kPrefix = " INFO audit: ";
  std::vector<absl::string_view> audit_lines;
  for (absl::string_view line : absl::StrSplit(err, '\n')) {
    const size_t at = line.find(kPrefix);
    if (at != absl::string_view::npos) audit_lines.push_back(line.substr(at + kPrefix.size()));
  }
  ASSERT_EQ(audit_lines.size(), 1u) << err;
  const test::JsonDoc doc = Parse(audit_lines[0]);
  EXPECT_EQ(doc.Str("/caller"), "log-sink");
  EXPECT_EQ(doc.Str("/peer"), record.peer);
  EXPECT_EQ(doc.Str("/subject"), hasher->Hash("openid-in-the-log"));
  EXPECT_EQ(err.find("openid-in-the-log"), std::string::npos) << err;
  EXPECT_EQ(err.find("forged line\n"), std::string::npos) << err;
}

TEST_F(AuditLogTest, ALineWithoutAHasherIsDroppedAndCounted) {
  std::unique_ptr<AuditLog> log = OpenLog({.file = path_});
  ASSERT_NE(log, nullptr);
  testing::internal::CaptureStderr();
  log->Append(Record("no-key", "openid-1"), nullptr);
  log->Append(Record("with-key", "openid-2"), Hasher());
  ASSERT_TRUE(log->Flush(kBound));
  EXPECT_EQ(log->dropped_lines(), 1);
  EXPECT_EQ(log->written_lines(), 1);
  log.reset();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(ReportedDrops(err, "without a subject key"), 1) << err;
  EXPECT_EQ(err.find("openid-1"), std::string::npos) << err;
  ASSERT_EQ(FileLines(path_).size(), 1u);
}

// /dev/full fails every write with ENOSPC, as a full disk does.
TEST_F(AuditLogTest, FailingWritesAreCountedAndReported) {
  std::unique_ptr<AuditLog> log = OpenLog({.file = "/dev/full"});
  ASSERT_NE(log, nullptr);
  testing::internal::CaptureStderr();
  for (int i = 0; i < 3; ++i) log->Append(Record("c", "openid"), Hasher());
  ASSERT_TRUE(log->Flush(kBound));
  EXPECT_EQ(log->dropped_lines(), 3);
  EXPECT_EQ(log->written_lines(), 0);
  log.reset();  // reports what the rate limit held back
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(ReportedDrops(err, "the write failed"), 3) << err;
  EXPECT_NE(err.find("writing /dev/full: No space left on device"), std::string::npos) << err;
}

// A write that fails mid-line (the file size limit reached) leaves a
// fragment; the next line still starts a line of its own.
TEST_F(AuditLogTest, ALineAfterAFailedPartialWriteIsWhole) {
  const auto hasher = Hasher();
  const size_t line_size = FormatAuditLine(Record("c", "x"), *hasher).size();

  // Past RLIMIT_FSIZE a write fails with EFBIG, and raises SIGXFSZ, which
  // ends the process unless the writer thread keeps it off.
  rlimit previous_limit = {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &previous_limit), 0);
  rlimit limit = previous_limit;
  limit.rlim_cur = line_size + 10;  // the first line and 10 bytes of the second

  std::unique_ptr<AuditLog> log = OpenLog({.file = path_});
  ASSERT_NE(log, nullptr);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  log->Append(Record("c", "x"), hasher);
  log->Append(Record("c", "y"), hasher);
  const bool flushed = log->Flush(kBound);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &previous_limit), 0);
  ASSERT_TRUE(flushed);
  EXPECT_EQ(log->written_lines(), 1);
  EXPECT_EQ(log->dropped_lines(), 1);

  log->Append(Record("after", "z"), hasher);
  ASSERT_TRUE(log->Flush(kBound));
  EXPECT_EQ(log->written_lines(), 2);
  const std::vector<std::string> lines = FileLines(path_);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(Parse(lines[0]).Str("/subject"), hasher->Hash("x"));
  EXPECT_EQ(lines[1].size(), 10u);  // the fragment, on a line of its own
  EXPECT_EQ(Parse(lines[2]).Str("/caller"), "after");
}

// The trail written to a FIFO, whose reader the test controls.
class FifoTest : public AuditLogTest {
 protected:
  void SetUp() override {
    AuditLogTest::SetUp();
    if (HasFatalFailure()) return;
    fifo_ = dir_->File("audit.fifo");
    ASSERT_EQ(mkfifo(fifo_.c_str(), 0600), 0);
    // Opened first, so the writer's open finds a reader and does not block.
    reader_ = open(fifo_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(reader_, 0);
    capacity_ = fcntl(reader_, F_GETPIPE_SZ);
    ASSERT_GT(capacity_, 0);
  }

  void TearDown() override {
    if (reader_ >= 0) close(reader_);
  }

  void CloseReader() {
    close(reader_);
    reader_ = -1;
  }

  // Reads until every writer has closed the FIFO.
  std::string DrainToEnd() {
    const int flags = fcntl(reader_, F_GETFL);
    EXPECT_EQ(fcntl(reader_, F_SETFL, flags & ~O_NONBLOCK), 0);
    std::string out;
    char buffer[65536];
    for (;;) {
      const ssize_t n = read(reader_, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }

  std::string fifo_;
  int reader_ = -1;
  int capacity_ = 0;
};

// A FIFO nobody reads wedges the writer inside write(2): the queue fills,
// and shutdown must not wait for ever.
TEST_F(FifoTest, AFullQueueDropsCountsAndReportsAndShutdownGivesUp) {
  const auto hasher = Hasher();
  testing::internal::CaptureStderr();
  std::unique_ptr<AuditLog> log =
      OpenLog({.file = fifo_, .max_queued_lines = 2, .shutdown_timeout = absl::Milliseconds(100)});
  ASSERT_NE(log, nullptr);
  // Longer than the pipe holds: its write blocks until someone reads.
  AuditRecord wedge = Record("wedge", "openid-0");
  wedge.peer = std::string(2 * capacity_, 'p');
  log->Append(wedge, hasher);
  ASSERT_TRUE(test::WaitFor("the writer to take the first line", [&] {
                return log->queued_lines() == 0;
              }).ok());

  for (int i = 1; i <= 4; ++i) log->Append(Record("queued", absl::StrCat("openid-", i)), hasher);
  EXPECT_EQ(log->queued_lines(), 2u);
  EXPECT_EQ(log->dropped_lines(), 2);
  EXPECT_EQ(log->written_lines(), 0);
  EXPECT_FALSE(log->Flush(absl::ZeroDuration()));

  log.reset();  // returns: the wedged writer is abandoned
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(ReportedDrops(err, "the queue is full"), 2) << err;
  EXPECT_NE(err.find("3 lines abandoned"), std::string::npos) << err;

  // Once read, the abandoned writer finishes the line it was in, writes
  // nothing more and closes the file.
  EXPECT_EQ(DrainToEnd(), FormatAuditLine(wedge, *hasher));
}

// A log shipper reading the FIFO went away: writes fail with EPIPE, and
// SIGPIPE does not end the process.
TEST_F(FifoTest, AReaderGoneFailsWritesWithoutASignal) {
  std::unique_ptr<AuditLog> log = OpenLog({.file = fifo_});
  ASSERT_NE(log, nullptr);
  CloseReader();
  testing::internal::CaptureStderr();
  log->Append(Record("c", "openid"), Hasher());
  ASSERT_TRUE(log->Flush(kBound));
  EXPECT_EQ(log->dropped_lines(), 1);
  EXPECT_EQ(log->written_lines(), 0);
  log.reset();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(ReportedDrops(err, "Broken pipe"), 1) << err;
}

TEST_F(AuditLogTest, ConcurrentAppendsWriteEveryLineOnceAndWhole) {
  const auto hasher = Hasher();
  std::unique_ptr<AuditLog> log = OpenLog({.file = path_});
  ASSERT_NE(log, nullptr);
  constexpr int kThreads = 4;
  constexpr int kLinesEach = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, &hasher, t] {
      for (int i = 0; i < kLinesEach; ++i) {
        AuditRecord record = Record(absl::StrCat("thread-", t), absl::StrCat(t, "/", i));
        record.app = absl::StrCat("line-", i);
        record.peer = std::string(200 + i % 50, 'a' + t);  // lines of varied sizes
        log->Append(std::move(record), hasher);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(log->Flush(kBound));
  EXPECT_EQ(log->written_lines(), kThreads * kLinesEach);
  EXPECT_EQ(log->dropped_lines(), 0);

  std::set<std::pair<std::string, std::string>> seen;
  const std::vector<std::string> lines = FileLines(path_);
  EXPECT_EQ(lines.size(), static_cast<size_t>(kThreads * kLinesEach));
  for (const std::string& line : lines) {
    const test::JsonDoc doc = Parse(line);
    ASSERT_FALSE(doc.empty());
    const std::string caller = doc.Str("/caller");
    const std::string app = doc.Str("/app");
    int i = 0;
    ASSERT_TRUE(absl::SimpleAtoi(absl::StripPrefix(app, "line-"), &i)) << line;
    EXPECT_EQ(doc.Str("/peer").size(), 200u + i % 50) << line;
    EXPECT_TRUE(seen.emplace(caller, app).second) << "twice: " << line;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kLinesEach));
}

}  // namespace
}  // namespace wxgate::audit
