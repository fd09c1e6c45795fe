// Config: what tessera-snapshotter runs with, from a JSON file and command-line flags (flags
// win). docs/snapshotter.md documents every key.
//
// Thread-safety: plain value type; the parsers are reentrant.
#pragma once

#include <cstdint>
#include <string>

#include "tessera/common/logging.h"
#include "tessera/common/result.h"

namespace tessera::snapshotter {

// How Tessera (remote) layers are served: one tesserad for all images, or one per image.
enum class DaemonMode { kShared, kPerImage };

struct Config {
  std::string root = "/var/lib/tessera-snapshotter";
  std::string address = "/run/tessera-snapshotter/snapshotter.sock";
  LogLevel log_level = LogLevel::kInfo;
  // The tesserad daemons that serve Tessera layers.
  DaemonMode daemon_mode = DaemonMode::kShared;
  std::string tesserad_path;        // empty: tesserad beside tessera-snapshotter, then $PATH
  uint64_t cache_limit = 0;         // bytes per daemon cache; 0: unlimited
  bool plain_http_loopback = true;  // talk http to registries on loopback addresses
  std::string docker_config;        // registry credentials file; empty: tesserad's default
  // How often the daemons serving mounts are checked (a dead one is replaced and takes its
  // mounts over); 0: only when containerd asks for mounts.
  uint64_t health_interval_ms = 2000;
};

// Parses a JSON object; unknown keys and wrong types are kInvalidArgument naming the key.
// Keys absent from the JSON keep `base`'s values.
Result<Config> ParseConfig(const std::string& json_text, const Config& base = {});

// Sets one string-valued key (root, address, log_level, daemon_mode, tesserad_path) with the
// same validation as the file; used for command-line overrides.
Status SetConfigString(const std::string& key, const std::string& value, Config* config);

// Reads and parses a file; errors name the path.
Result<Config> LoadConfigFile(const std::string& path, const Config& base = {});

}  // namespace tessera::snapshotter
