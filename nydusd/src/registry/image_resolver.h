// Turns a mount's registry image reference into something ImageFs can open: finds the image's
// manifest (an index resolves to this host's platform), fetches its bootstrap layer once into
// the cache directory (reused on later starts when its digest still matches), writes the
// bootstrap file next to it, and checks the bootstrap's blob table against the manifest's blob
// layers, so every blob the filesystem reads is one the registry serves with the right size.
#pragma once

#include <string>

#include "tessera/common/logging.h"
#include "tessera/nydusd/daemon.h"

namespace tessera::nydusd {

// Fills mount.registry (primary host and repo from the reference, credentials from the docker
// config when none were given) and sets mount.bootstrap to the bootstrap file in cache_dir.
// Errors name the image: kPermission (credentials refused), kNotFound, kUnavailable,
// kUnsupported (not a Tessera image), kCorrupt (bootstrap or manifest inconsistent).
Status ResolveRegistryImage(MountConfig& mount, const std::string& cache_dir, Logger& logger);

}  // namespace tessera::nydusd
