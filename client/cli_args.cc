#include "client/cli_args.h"

#include "absl/strings/match.h"

namespace wxgate::cli {

Args::Args(int argc, char** argv) {
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (only_positional || !absl::StartsWith(arg, "--")) {
      positional_.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    arg.remove_prefix(2);
    size_t eq = arg.find('=');
    if (eq == absl::string_view::npos) {
      flags_[std::string(arg)] = "true";
    } else {
      flags_[std::string(arg.substr(0, eq))] = std::string(arg.substr(eq + 1));
    }
  }
}

std::optional<std::string> Args::Flag(absl::string_view name) const {
  auto it = flags_.find(name);
  if (it == flags_.end()) return std::nullopt;
  used_[it->first] = true;
  return it->second;
}

bool Args::Bool(absl::string_view name) const {
  std::optional<std::string> value = Flag(name);
  return value.has_value() && (*value == "true" || *value == "1");
}

std::string Args::FlagOr(absl::string_view name, absl::string_view fallback) const {
  return Flag(name).value_or(std::string(fallback));
}

std::vector<std::string> Args::Unused() const {
  std::vector<std::string> unused;
  for (const auto& [name, value] : flags_) {
    if (!used_.contains(name)) unused.push_back(name);
  }
  return unused;
}

}  // namespace wxgate::cli
