#ifndef WXGATE_SERVER_COMMON_THREAD_NAME_H_
#define WXGATE_SERVER_COMMON_THREAD_NAME_H_

#include "absl/strings/string_view.h"

namespace wxgate {

// Names the calling thread as `top -H`, `ps -L`, perf and gdb show it
// ("wxgate-curl"). Linux keeps 15 bytes; longer names are cut there. Best
// effort: a failure changes nothing else.
void NameThisThread(absl::string_view name);

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_THREAD_NAME_H_
