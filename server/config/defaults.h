#ifndef WXGATE_SERVER_CONFIG_DEFAULTS_H_
#define WXGATE_SERVER_CONFIG_DEFAULTS_H_

// What every unset field of wxgate.config.v1.Config means: the one table the
// config (config.h, config.cc) and the options it feeds read, so that a
// default is stated once in code. proto/wxgate/config/v1/config.proto, the
// README and deploy/wxgate.example.textproto state the same numbers, and
// tests/config/config_test.cc holds them to it.
//
// Header-only and free of the config's types, so that a lower library (the
// session store) can take its default from here.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace wxgate::config::defaults {

// server { }
// 0: one polling thread per usable core.
inline constexpr int kThreads = 0;
inline constexpr int kCallsPerMethod = 16;
inline constexpr absl::Duration kShutdownGrace = absl::Seconds(10);
// 0: the listener closes as soon as SIGTERM arrives (see Server.drain_delay).
inline constexpr absl::Duration kDrainDelay = absl::ZeroDuration();
inline constexpr int kMaxReceiveMessageBytes = 256 * 1024;
inline constexpr bool kReflection = true;
// Threads serving server.http_address.
inline constexpr int kHttpThreads = 32;

// server { tls { } }
inline constexpr absl::Duration kTlsWatchInterval = absl::Seconds(10);

// upstream { }
inline constexpr absl::string_view kWeChatBaseUrl = "https://api.weixin.qq.com";
inline constexpr absl::string_view kWeComBaseUrl = "https://qyapi.weixin.qq.com";
inline constexpr absl::Duration kUpstreamTimeout = absl::Seconds(5);
inline constexpr absl::Duration kConnectTimeout = absl::Seconds(2);
inline constexpr int kMaxConnectionsPerHost = 512;
inline constexpr int64_t kMaxResponseBytes = int64_t{1} << 20;

// cache { }
inline constexpr absl::Duration kRefreshMargin = absl::Minutes(5);
inline constexpr absl::Duration kConfigErrorHold = absl::Minutes(1);
inline constexpr absl::Duration kMaxBackoff = absl::Seconds(30);
// Zero: external contact lookups are not cached.
inline constexpr absl::Duration kExternalContactTtl = absl::ZeroDuration();
// Not a config field: the bound on that cache when it is on.
inline constexpr size_t kExternalContactMaxEntries = 100000;

// sessions { }
inline constexpr absl::Duration kSessionTtl = absl::Hours(72);
inline constexpr int64_t kSessionMaxEntries = 1000000;
// Zero: no age check.
inline constexpr absl::Duration kMaxWatermarkAge = absl::ZeroDuration();

// store { redis { } }
inline constexpr absl::string_view kRedisKeyPrefix = "wxgate:";
inline constexpr absl::Duration kRedisTimeout = absl::Milliseconds(200);

}  // namespace wxgate::config::defaults

#endif  // WXGATE_SERVER_CONFIG_DEFAULTS_H_
