#ifndef WXGATE_SERVER_CONFIG_STORE_CONFIG_H_
#define WXGATE_SERVER_CONFIG_STORE_CONFIG_H_

// Internal to wxgate_config: the store section, whose fields depend on each
// other (a key is required with redis, previous keys differ from it).

#include <optional>

#include "absl/status/statusor.h"
#include "server/config/config.h"
#include "wxgate/config/v1/config.pb.h"

namespace wxgate::config::internal {

// nullopt when the config has no store section (`has` false). A section
// without redis, or redis without encryption_key, is an error.
absl::StatusOr<std::optional<StoreSettings>> ConvertStore(bool has, const v1::Store& in,
                                                          const EnvLookup& env);

}  // namespace wxgate::config::internal

#endif  // WXGATE_SERVER_CONFIG_STORE_CONFIG_H_
