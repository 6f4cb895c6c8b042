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
absl::Status RegisterAppsFromConfig(absl::string_view path, Emulator& emulator);

}  // namespace wxgate::emulator

#endif  // WXGATE_TESTS_EMULATOR_CONFIG_H_
