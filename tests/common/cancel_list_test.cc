#include "server/common/cancel_list.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/fake_call.h"

namespace wxgate {
namespace {

TEST(CancelListTest, CancelRunsEveryCancellerOnce) {
  CancelList list;
  int a = 0;
  int b = 0;
  list.Add([&a] { ++a; });
  list.Add([&b] { ++b; });
  EXPECT_FALSE(list.cancelled());
  EXPECT_EQ(a + b, 0);
  list.Cancel();
  EXPECT_TRUE(list.cancelled());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
  list.Cancel();
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
}

TEST(CancelListTest, ACancellerAddedAfterCancelRunsAtOnce) {
  CancelList list;
  list.Cancel();
  int ran = 0;
  list.Add([&ran] { ++ran; });
  EXPECT_EQ(ran, 1);
}

TEST(CancelListTest, CancellersRunOutsideTheLock) {
  // A canceller that adds the next step's canceller (a step racing the
  // cancellation) must neither deadlock nor lose it.
  CancelList list;
  int ran = 0;
  list.Add([&list, &ran] {
    EXPECT_TRUE(list.cancelled());
    list.Add([&ran] { ++ran; });
  });
  list.Cancel();
  EXPECT_EQ(ran, 1);
}

TEST(CancelListTest, TheCallerGoingAwayCancelsTheList) {
  test::FakeRequestScope scope;
  std::shared_ptr<CancelList> list = CancelList::For(scope);
  int ran = 0;
  list->Add([&ran] { ++ran; });
  EXPECT_FALSE(list->cancelled());
  scope.Cancel();
  EXPECT_TRUE(list->cancelled());
  EXPECT_EQ(ran, 1);
}

TEST(CancelListTest, AListMadeForAGoneCallerIsCancelledAlready) {
  test::FakeRequestScope scope;
  scope.Cancel();
  std::shared_ptr<CancelList> list = CancelList::For(scope);
  EXPECT_TRUE(list->cancelled());
}

TEST(CancelListTest, EveryCancellerRunsOnceWhateverTheInterleaving) {
  // Steps add cancellers from several threads while the caller goes away:
  // each runs exactly once, before or during Cancel or at its own Add.
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  CancelList list;
  std::atomic<int> ran{0};
  std::vector<std::thread> steps;
  for (int t = 0; t < kThreads; ++t) {
    steps.emplace_back([&list, &ran] {
      for (int i = 0; i < kPerThread; ++i) list.Add([&ran] { ran.fetch_add(1); });
    });
  }
  list.Cancel();
  for (std::thread& step : steps) step.join();
  EXPECT_EQ(ran.load(), kThreads * kPerThread);
}

}  // namespace
}  // namespace wxgate
