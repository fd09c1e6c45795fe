#include "commands.h"

#include <cstdio>

#include "tessera/common/io.h"
#include "tessera/nydusd_client/client.h"

namespace tessera::nydusd::client::cli {
namespace {

std::string FormatBytes(uint64_t bytes) {
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), unit == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string Field(const char* name, const std::string& value) {
  std::string line = std::string(name) + ":";
  line.resize(10, ' ');
  return line + value + "\n";
}

int Fail(std::ostream& err, const Error& error) {
  err << "tesseractl: " << error.ToString() << "\n";
  return 1;
}

int Status(ApiClient& client, const CtlOptions& options, std::ostream& out, std::ostream& err) {
  auto info = client.GetDaemon();
  if (!info) return Fail(err, info.error());
  out << (options.json ? EncodeDaemonInfo(*info, 2) + "\n" : FormatStatus(*info));
  return 0;
}

int Mounts(ApiClient& client, const CtlOptions& options, std::ostream& out, std::ostream& err) {
  auto mounts = client.ListMounts();
  if (!mounts) return Fail(err, mounts.error());
  if (options.json) {
    out << EncodeMountList(*mounts, 2) << "\n";
    return 0;
  }
  for (const auto& m : *mounts) out << FormatMountLine(m) << "\n";
  return 0;
}

int Metrics(ApiClient& client, std::ostream& out, std::ostream& err) {
  auto text = client.GetMetrics();
  if (!text) return Fail(err, text.error());
  out << *text;
  return 0;
}

// The password comes from a file so it never shows in a process listing or shell history.
int RegistryAuth(ApiClient& client, const CtlOptions& options, std::ostream& out,
                 std::ostream& err) {
  auto bytes = ReadFile(options.auth_password_file);
  if (!bytes) return Fail(err, bytes.error());
  RegistryAuthUpdate update;
  update.username = options.auth_user;
  update.password.assign(bytes->begin(), bytes->end());
  while (!update.password.empty() &&
         (update.password.back() == '\n' || update.password.back() == '\r')) {
    update.password.pop_back();
  }
  update.mountpoint = options.auth_mountpoint;
  update.host = options.auth_host;
  auto n = client.UpdateRegistryAuth(update);
  if (!n) return Fail(err, n.error());
  out << *n << " registry endpoint(s) updated\n";
  return 0;
}

}  // namespace

std::string FormatDuration(uint64_t seconds) {
  const uint64_t parts[] = {seconds / 86400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60};
  const char* units[] = {"d", "h", "m", "s"};
  std::string out;
  for (size_t i = 0; i < 4; ++i) {
    if (out.empty() && parts[i] == 0 && i < 3) continue;
    out += (out.empty() ? "" : " ") + std::to_string(parts[i]) + units[i];
  }
  return out;
}

std::string FormatMountLine(const MountInfo& m) {
  std::string line = m.mountpoint + " " + m.transport + " ";
  if (m.fully_cached) {
    line += "fully cached";
  } else {
    uint64_t pct = m.chunks_total == 0 ? 0 : m.chunks_ready * 100 / m.chunks_total;
    line += std::to_string(m.chunks_ready) + "/" + std::to_string(m.chunks_total) +
            " chunks cached (" + std::to_string(pct) + "%)";
  }
  line += " bootstrap=" + m.bootstrap;
  if (!m.image.empty()) line += " image=" + m.image;
  return line;
}

std::string FormatStatus(const DaemonInfo& info) {
  std::string out = Field("state", info.state) + Field("version", info.version);
  if (info.pid > 0) out += Field("pid", std::to_string(info.pid));
  out += Field("uptime", FormatDuration(info.uptime_seconds));
  if (!info.apisock.empty()) out += Field("socket", info.apisock);
  if (!info.config.backend.empty()) out += Field("backend", info.config.backend);
  if (!info.config.cache_dir.empty()) {
    std::string limit = info.config.cache_limit_bytes == 0
                            ? "no limit"
                            : "limit " + FormatBytes(info.config.cache_limit_bytes);
    out += Field("cache", info.config.cache_dir + " (" + limit + ")");
  }
  out += Field("mounts", std::to_string(info.mounts.size()));
  for (const auto& m : info.mounts) out += "  " + FormatMountLine(m) + "\n";
  return out;
}

int RunCtl(const CtlOptions& options, std::ostream& out, std::ostream& err) {
  ApiClient client(ApiClientOptions{.socket_path = options.apisock, .timeout = options.timeout});
  switch (options.command) {
    case Command::kStatus:
      return Status(client, options, out, err);
    case Command::kMounts:
      return Mounts(client, options, out, err);
    case Command::kMetrics:
      return Metrics(client, out, err);
    case Command::kRegistryAuth:
      return RegistryAuth(client, options, out, err);
    case Command::kNone:
      break;
  }
  err << "tesseractl: no command given (status, metrics, mounts)\n";
  return 2;
}

}  // namespace tessera::nydusd::client::cli
