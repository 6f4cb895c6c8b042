#ifndef WXGATE_TESTS_EMULATOR_EMULATOR_FIXTURE_H_
#define WXGATE_TESTS_EMULATOR_EMULATOR_FIXTURE_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/emulator_process.h"
#include "tests/support/json.h"

namespace wxgate::test {

// A fresh emulator per test, and terse calls for the emulator's own tests.
class EmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EmulatorProcess>> emulator = EmulatorProcess::Start(Options());
    ASSERT_TRUE(emulator.ok()) << emulator.status();
    emulator_ = *std::move(emulator);
  }

  virtual EmulatorOptions Options() { return {}; }

  ControlClient& control() { return emulator_->control(); }

  // A call expected to answer 200 with JSON; a failure is reported and an
  // empty document returned.
  JsonDoc Post(absl::string_view path, absl::string_view body) {
    absl::StatusOr<JsonDoc> doc = control().PostJson(path, body);
    EXPECT_TRUE(doc.ok()) << "POST " << path << ": " << doc.status();
    return doc.ok() ? *std::move(doc) : JsonDoc();
  }
  JsonDoc Get(absl::string_view path) {
    absl::StatusOr<JsonDoc> doc = control().GetJson(path);
    EXPECT_TRUE(doc.ok()) << "GET " << path << ": " << doc.status();
    return doc.ok() ? *std::move(doc) : JsonDoc();
  }

  std::unique_ptr<EmulatorProcess> emulator_;
};

}  // namespace wxgate::test

#endif  // WXGATE_TESTS_EMULATOR_EMULATOR_FIXTURE_H_
