#include "metrics_observer.h"

#include <cstring>

namespace tessera::nydusd {
namespace {

constexpr const char* kOpNames[] = {"lookup",      "getattr",  "read",     "opendir",   "readdir",
                                    "readdirplus", "readlink", "getxattr", "listxattr", "other"};

void Line(std::string& out, const char* name, const std::string& labels, uint64_t value) {
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += " " + std::to_string(value) + "\n";
}

void Header(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

int DaemonMetrics::OpIndex(const char* name) {
  constexpr int n = sizeof(kOpNames) / sizeof(kOpNames[0]);
  for (int i = 0; i < n - 1; ++i) {
    if (std::strcmp(kOpNames[i], name) == 0) return i;
  }
  return n - 1;
}

void DaemonMetrics::Op(const char* name, std::chrono::nanoseconds latency, bool ok) {
  int i = OpIndex(name);
  ++op_count_[i];
  if (!ok) ++op_errors_[i];
  op_ns_[i] += static_cast<uint64_t>(latency.count());
}

std::string DaemonMetrics::Render() const {
  std::string o;
  Header(o, "tessera_backend_requests_total", "counter", "Backend read requests.");
  Line(o, "tessera_backend_requests_total", "", backend_requests_);
  Header(o, "tessera_backend_read_bytes_total", "counter", "Compressed bytes read from backends.");
  Line(o, "tessera_backend_read_bytes_total", "", backend_bytes_);
  Header(o, "tessera_backend_errors_total", "counter", "Failed backend reads.");
  Line(o, "tessera_backend_errors_total", "", backend_errors_);
  Header(o, "tessera_backend_latency_seconds_total", "counter", "Time spent in backend reads.");
  o += "tessera_backend_latency_seconds_total " + std::to_string(backend_ns_ / 1e9) + "\n";
  Header(o, "tessera_cache_hits_total", "counter", "Raw-device reads served from the cache.");
  Line(o, "tessera_cache_hits_total", "", cache_hits_);
  Header(o, "tessera_cache_misses_total", "counter", "Raw-device reads that fetched chunks.");
  Line(o, "tessera_cache_misses_total", "", cache_misses_);
  Header(o, "tessera_chunk_corrupt_total", "counter",
         "Chunks whose bytes failed their sha256 (never served).");
  Line(o, "tessera_chunk_corrupt_total", "", corrupt_chunks_);
  Header(o, "tessera_cache_evicted_bytes_total", "counter", "Cache bytes freed by eviction.");
  Line(o, "tessera_cache_evicted_bytes_total", "", evicted_bytes_);
  Header(o, "tessera_cache_bytes", "gauge", "Bytes the cache directory holds on disk.");
  Line(o, "tessera_cache_bytes", "", cache_bytes_);
  Header(o, "tessera_read_bytes_total", "counter", "File bytes returned to readers.");
  Line(o, "tessera_read_bytes_total", "", read_bytes_);
  Header(o, "tessera_fuse_ops_total", "counter", "FUSE requests by operation.");
  constexpr int n = sizeof(kOpNames) / sizeof(kOpNames[0]);
  for (int i = 0; i < n; ++i) {
    Line(o, "tessera_fuse_ops_total", std::string("op=\"") + kOpNames[i] + "\"", op_count_[i]);
  }
  Header(o, "tessera_fuse_errors_total", "counter", "FUSE requests answered with an error.");
  for (int i = 0; i < n; ++i) {
    Line(o, "tessera_fuse_errors_total", std::string("op=\"") + kOpNames[i] + "\"", op_errors_[i]);
  }
  Header(o, "tessera_fuse_latency_seconds_total", "counter", "Time spent answering FUSE requests.");
  for (int i = 0; i < n; ++i) {
    o += std::string("tessera_fuse_latency_seconds_total{op=\"") + kOpNames[i] + "\"} " +
         std::to_string(op_ns_[i] / 1e9) + "\n";
  }
  return o;
}

}  // namespace tessera::nydusd
