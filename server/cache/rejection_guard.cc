#include "server/cache/rejection_guard.h"

#include <algorithm>

namespace wxgate::cache {

void RejectionGuard::OnNewValue(absl::Time now) {
  if (!replacing_rejected_) {
    until_ = absl::InfinitePast();
    next_pause_ = initial_pause_;
    return;
  }
  replacing_rejected_ = false;
  until_ = now + next_pause_;
  // Duration arithmetic saturates, so a long streak cannot overflow.
  next_pause_ = std::min(next_pause_ * 2, max_pause_);
}

}  // namespace wxgate::cache
