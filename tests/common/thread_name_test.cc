#include "server/common/thread_name.h"

#include <pthread.h>

#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace wxgate {
namespace {

std::string NameOfThisThread() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  return name;
}

// The name a new thread reads back after NameThisThread(name).
std::string NamedInAThread(const char* name) {
  std::string named;
  std::thread([&] {
    NameThisThread(name);
    named = NameOfThisThread();
  }).join();
  return named;
}

TEST(ThreadNameTest, NamesTheCallingThreadOnly) {
  const std::string before = NameOfThisThread();
  EXPECT_EQ(NamedInAThread("wxgate-test"), "wxgate-test");
  EXPECT_EQ(NameOfThisThread(), before);
}

TEST(ThreadNameTest, CutsLongNamesAtTheKernelsFifteenBytes) {
  EXPECT_EQ(NamedInAThread("wxgate-a-very-long-thread-name"), "wxgate-a-very-l");
}

}  // namespace
}  // namespace wxgate
