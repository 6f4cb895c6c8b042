#ifndef WXGATE_SERVER_CONFIG_FIELD_CHECKS_H_
#define WXGATE_SERVER_CONFIG_FIELD_CHECKS_H_

// Internal to wxgate_config: the rule for each single config value. Each
// returns the value to run with, or an error that states the problem without
// naming the field (the caller does, see field_reader.h).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/config/config.h"
#include "wxgate/config/v1/config.pb.h"

namespace wxgate::config::internal {

// host:port, port 0 to 65535.
absl::StatusOr<std::string> ListenAddress(const std::string& address);

// Empty: `fallback`. Else https://host[/path] with its trailing '/' dropped.
absl::StatusOr<std::string> BaseUrl(const std::string& url, absl::string_view fallback);

// Empty, or a readable file holding a PEM certificate; NOT_FOUND or
// PERMISSION_DENIED when it cannot be read.
absl::StatusOr<std::string> CaFile(const std::string& path);

// Empty (direct), or http:// or https://, an optional user:password@, a host
// and a port; nothing after but a '/'. The URL may hold a password, so no
// error quotes it.
absl::StatusOr<std::string> ProxyUrl(const std::string& url);

// "host.example.com" or "*.example.com", lowercased.
absl::StatusOr<std::string> PageHostPattern(const std::string& pattern);

// What callers put in `app`: 1 to 64 of [A-Za-z0-9_.-].
bool IsAppName(absl::string_view name);

// An app id or corp id: 1 to 64 of [A-Za-z0-9_-].
bool IsAppId(absl::string_view id);

// Where a secret comes from, as errors name it: "environment variable NAME",
// "file PATH" or "the inline value"; never the secret.
std::string SecretSource(const v1::Secret& secret);

// The secret from the environment, a file or inline: printable ASCII without
// spaces, at most 512 bytes. Errors name the variable or file, never a value.
absl::StatusOr<std::string> ResolveSecret(const v1::Secret& secret, const EnvLookup& env);

// host:port or [IPv6]:port (port 1 to 65535), or unix:/absolute/path. No
// error quotes the address.
absl::StatusOr<RedisAddress> ParseRedisAddress(const std::string& address);

// Empty (the default user), or printable ASCII without spaces.
absl::StatusOr<std::string> RedisUsername(const std::string& username);

// Not negative; Redis decides how many databases there are.
absl::StatusOr<int> RedisDb(int32_t db);

// Empty: the default. Else 1 to 64 printable ASCII characters, no spaces, no
// braces.
absl::StatusOr<std::string> KeyPrefix(const std::string& prefix);

// A secret as ResolveSecret reads it, holding the base64 of exactly
// kEncryptionKeyBytes bytes: those bytes. Errors name the source.
absl::StatusOr<std::string> ResolveEncryptionKey(const v1::Secret& secret, const EnvLookup& env);

}  // namespace wxgate::config::internal

#endif  // WXGATE_SERVER_CONFIG_FIELD_CHECKS_H_
