// `tesseractl --address CONTAINERD_SOCKET pull [--plain-http] [--snapshotter tessera]
// [--namespace default] REF`: pulls a Tessera image into containerd with remote layers
// (tessera::ctrclient::PullImage). Kept apart from the API commands so that only the tesseractl
// executable links the containerd client, not tessera_nydusd_client_cli.
#pragma once

#include <ostream>

namespace tessera::nydusd::client::cli {

// True if argv's command is "pull".
bool IsPullCommand(int argc, const char* const* argv);
// Parses and runs the pull; returns the exit status (0 ok, 1 failed, 2 usage error).
int RunPull(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace tessera::nydusd::client::cli
