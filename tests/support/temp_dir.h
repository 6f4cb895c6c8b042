#ifndef WXGATE_TESTS_SUPPORT_TEMP_DIR_H_
#define WXGATE_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace wxgate::test {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// the object is destroyed. Movable, not copyable.
class TempDir {
 public:
  static absl::StatusOr<TempDir> Create(absl::string_view prefix = "wxgate-test");

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(absl::string_view name) const;
  // Writes `contents` to path()/name, replacing it; returns the full path.
  absl::StatusOr<std::string> WriteFile(absl::string_view name, absl::string_view contents) const;

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  void Remove();

  std::string path_;
};

// A loopback TCP port that nothing listens on right now: bound to port 0,
// then closed. For "connection refused" tests; another process could take it
// in between, which on loopback in a test run is vanishingly rare.
absl::StatusOr<int> UnusedLoopbackPort();

// Reads a whole file.
absl::StatusOr<std::string> ReadFileToString(absl::string_view path);

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_SUPPORT_TEMP_DIR_H_
