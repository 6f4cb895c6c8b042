#include "server/common/thread_name.h"

#include <pthread.h>

#include <algorithm>
#include <cstring>

namespace wxgate {

void NameThisThread(absl::string_view name) {
  // The kernel's limit: 16 bytes with the terminating NUL.
  char buffer[16] = {};
  std::memcpy(buffer, name.data(), std::min(name.size(), sizeof(buffer) - 1));
  pthread_setname_np(pthread_self(), buffer);
}

}  // namespace wxgate
