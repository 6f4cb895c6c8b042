#ifndef WXGATE_CLIENT_CLI_ARGS_H_
#define WXGATE_CLIENT_CLI_ARGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace wxgate::cli {

// A command line split into --flag=value options (anywhere) and positional
// words. "--flag" alone means "--flag=true".
class Args {
 public:
  Args(int argc, char** argv);

  const std::vector<std::string>& positional() const { return positional_; }
  std::optional<std::string> Flag(absl::string_view name) const;
  bool Bool(absl::string_view name) const;
  std::string FlagOr(absl::string_view name, absl::string_view fallback) const;
  // Flags given but never asked for: typos worth reporting.
  std::vector<std::string> Unused() const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::string, std::less<>> flags_;
  mutable std::map<std::string, bool, std::less<>> used_;
};

}  // namespace wxgate::cli

#endif  // WXGATE_CLIENT_CLI_ARGS_H_
