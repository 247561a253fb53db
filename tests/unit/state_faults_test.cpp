// The crash tests' checkpoint faults (pipeline/state_faults.h): which fault the environment's
// variables ask for, and that SIGTERM is sent once, right after the chosen checkpoint.
#include "pipeline/state_faults.h"

#include <gtest/gtest.h>

#include <csignal>

namespace di {
namespace {

volatile std::sig_atomic_t terms = 0;
void CountTerm(int) {
  terms = terms + 1;
}

TEST(CheckpointFaults, FromTheEnvironmentsVariables) {
  EXPECT_FALSE(CheckpointFaultsFrom(nullptr, nullptr, nullptr).any());
  CheckpointFaults term = CheckpointFaultsFrom(nullptr, "3", nullptr);
  EXPECT_EQ(term.after, 3);
  EXPECT_EQ(term.action, CheckpointFaults::Action::kTerm);
  CheckpointFaults both = CheckpointFaultsFrom("2", "5", "40");  // the crash wins
  EXPECT_EQ(both.after, 2);
  EXPECT_EQ(both.action, CheckpointFaults::Action::kKill);
  EXPECT_EQ(both.pause, std::chrono::milliseconds(40));
}

TEST(CheckpointFaults, SigtermIsSentOnceRightAfterTheChosenCheckpoint) {
  struct sigaction count {
  }, before{};
  count.sa_handler = CountTerm;
  sigemptyset(&count.sa_mask);
  ASSERT_EQ(sigaction(SIGTERM, &count, &before), 0);
  terms = 0;
  MemoryStateStore kept;
  FaultingStateStore store(kept, CheckpointFaultsFrom(nullptr, "2", nullptr));
  const nlohmann::json checkpoint = {{"state", "running"}};
  ASSERT_TRUE(store.PutTask("r", "table:t", {{"state", "running"}, {"ended", true}}).ok());
  ASSERT_TRUE(store.PutTask("r", "table:t", checkpoint).ok());
  EXPECT_EQ(terms, 0);  // the first checkpoint (an ended task is none)
  ASSERT_TRUE(store.PutTask("r", "table:t", checkpoint).ok());
  EXPECT_EQ(terms, 1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store.PutTask("r", "table:t", checkpoint).ok());
  EXPECT_EQ(terms, 1);  // once; the run goes on writing until its batch boundary
  EXPECT_FALSE(store.failing());
  sigaction(SIGTERM, &before, nullptr);
}

}  // namespace
}  // namespace di
