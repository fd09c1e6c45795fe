// Counters, gauges and histograms, rendered in the Prometheus text exposition format (0.0.4).
//
// A MetricsRegistry is an object the daemon creates and injects (no global registry). Code
// registers each series once at startup and keeps the returned pointer; updating a series is
// then one relaxed atomic operation (a histogram adds a short bucket search), with no lock and
// no allocation. Series live as long as their registry.
//
// Naming is the caller's (the daemon uses "tessera_" prefixes). A family is one metric name
// with one type, help text and bucket layout; its series differ by label values, and every
// series of a family has the same label names in the same order. Counter names get "_total"
// appended unless they already end in it.
//
// Thread-safety: everything may be called from any thread. Registration and rendering take an
// internal mutex; Counter/Gauge/Histogram updates are lock-free.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tessera/common/result.h"

namespace tessera {

// The Content-Type of RenderPrometheus() output when served over HTTP.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Label names and values of one series, e.g. {{"op", "read"}}.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (bytes in use, requests in flight).
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void Sub(int64_t n) { value_.fetch_sub(n, std::memory_order_relaxed); }
  int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Counts observations into fixed buckets (upper bounds, ascending; +Inf is implicit).
class Histogram {
 public:
  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };

  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double value);
  void ObserveDuration(std::chrono::nanoseconds d) {
    Observe(static_cast<double>(d.count()) / 1e9);
  }
  const std::vector<double>& bounds() const { return bounds_; }
  // A consistent-enough copy: count is the sum of the bucket counts read.
  Snapshot Read() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1 (the +Inf bucket)
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, 50 µs .. 10 s (1-2.5-5 steps).
std::vector<double> LatencyBuckets();
// count bounds: start, start*factor, ... (start > 0, factor > 1, count ≥ 1).
std::vector<double> ExponentialBuckets(double start, double factor, size_t count);

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Returns the series for name + labels, creating it (and its family) on first use; the same
  // name + labels always gives the same pointer. kInvalidArgument, naming the metric, for: a
  // bad metric or label name (Prometheus charset; "le" and "__" prefixes reserved), a name
  // registered with another type, different label names than the family's, or
  // histogram bounds that are not strictly ascending and finite or differ from the family's.
  // The help text of a family's first registration is kept.
  Result<Counter*> AddCounter(std::string_view name, std::string_view help,
                              const MetricLabels& labels = {});
  Result<Gauge*> AddGauge(std::string_view name, std::string_view help,
                          const MetricLabels& labels = {});
  Result<Histogram*> AddHistogram(std::string_view name, std::string_view help,
                                  const std::vector<double>& bounds,
                                  const MetricLabels& labels = {});

  // Every family in registration order: "# HELP", "# TYPE", then its series in registration
  // order (histograms as _bucket{le=...} cumulative, _sum, _count).
  std::string RenderPrometheus() const;

  struct Family;  // internal: defined in metrics.cc

 private:
  Result<Family*> FindOrAddFamily(std::string_view name, std::string_view help, int type,
                                  const MetricLabels& labels, const std::vector<double>& bounds);

  mutable std::mutex mu_;  // guards families_ (the series themselves are atomic)
  std::vector<std::unique_ptr<Family>> families_;
};

}  // namespace tessera
