#ifndef WXGATE_TESTS_EMULATOR_CONFIG_H_
#define WXGATE_TESTS_EMULATOR_CONFIG_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tests/emulator/emulator.h"

namespace wxgate::emulator {

// Registers every app of a wxgate server config (text-format
// wxgate.config.v1.Config) with the emulator, with the secret resolved the
// way wxgate resolves it (env, file, value), so wxgate and the emulator agree
// on every credential without a test repeating them.
// The WeChat apps (mini programs, Official Accounts, website and mobile apps)
// are bound to one Open Platform account, kConfigOpenPlatform, as a company
// binds its apps to its own: one person has one unionid across them.
absl::Status RegisterAppsFromConfig(absl::string_view path, Emulator& emulator);

// The Open Platform account of the apps registered from a config.
inline constexpr absl::string_view kConfigOpenPlatform = "default";

}  // namespace wxgate::emulator

#endif  // WXGATE_TESTS_EMULATOR_CONFIG_H_
