#ifndef WXGATE_TESTS_EMULATOR_CONTROL_UTIL_H_
#define WXGATE_TESTS_EMULATOR_CONTROL_UTIL_H_

#include <utility>

#include "tests/emulator/api.h"

// Shorthand for the many "bail out with a 400" checks of the control calls:
// `expr` is an absl::StatusOr; on error the enclosing function returns
// BadRequest(status), else `lhs` takes the value.
#define EMU_ASSIGN_OR_400(lhs, expr)                                            \
  auto lhs##_or = (expr);                                                       \
  if (!lhs##_or.ok()) return ::wxgate::emulator::BadRequest(lhs##_or.status()); \
  auto lhs = *std::move(lhs##_or) /* NOLINT(bugprone-macro-parentheses): lhs is a name */

#endif  // WXGATE_TESTS_EMULATOR_CONTROL_UTIL_H_
