// The registry settings object shared by the config file (backend {"type": "registry", ...})
// and POST /api/v1/mounts ("registry": {...}); keys in README ("Serving from a registry").
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "tessera/nydusd/daemon.h"

namespace tessera::nydusd {

// Applies the keys present in `j` to mount (image, host, repo, scheme, insecure, ca_file,
// auth, timeout_ms, connect_timeout_ms, retry_limit, hedge_delay_ms, failure_threshold,
// cooldown_ms, mirrors). kInvalidArgument naming `what` and the key on a bad value.
Status ApplyRegistrySettings(const nlohmann::json& j, MountConfig& mount, const std::string& what);
// The same from JSON text (must be an object).
Status ApplyRegistrySettingsText(const std::string& text, MountConfig& mount,
                                 const std::string& what);

}  // namespace tessera::nydusd
