#ifndef WXGATE_SERVER_COMMON_HOST_PORT_H_
#define WXGATE_SERVER_COMMON_HOST_PORT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace wxgate {

// "host:port" or "[v6]:port" -> host (without brackets) and port 0-65535.
// False when it is neither.
bool SplitHostPort(absl::string_view address, std::string& host, int& port);

// The inverse: "[v6]:port" for a host with colons, else "host:port".
std::string JoinHostPort(absl::string_view host, int port);

}  // namespace wxgate

#endif  // WXGATE_SERVER_COMMON_HOST_PORT_H_
