// Metrics registry and Prometheus text exposition (format 0.0.4:
// https://prometheus.io/docs/instrumenting/exposition_formats/).
#include "tessera/common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace tessera {

enum MetricType { kCounterType = 0, kGaugeType = 1, kHistogramType = 2 };

struct MetricsRegistry::Family {
  struct Series {
    std::vector<std::string> label_values;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  std::string name;
  std::string help;
  int type = kCounterType;
  std::vector<std::string> label_names;
  std::vector<double> bounds;
  std::vector<Series> series;
};

namespace {

using Family = MetricsRegistry::Family;

constexpr std::string_view kTypeNames[] = {"counter", "gauge", "histogram"};

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool ValidMetricName(std::string_view name) {
  if (name.empty() || !(IsAlpha(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsAlpha(c) || IsDigit(c) || c == ':'; });
}

bool ValidLabelName(std::string_view name) {
  if (name.empty() || !IsAlpha(name[0]) || name.starts_with("__") || name == "le") return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsAlpha(c) || IsDigit(c); });
}

Error Invalid(std::string_view name, const std::string& why) {
  return MakeError(ErrorCode::kInvalidArgument, "metric " + std::string(name) + ": " + why);
}

Status CheckLabels(std::string_view name, const MetricLabels& labels) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!ValidLabelName(labels[i].first))
      return Invalid(name, "bad label name '" + labels[i].first + "'");
    for (size_t j = 0; j < i; ++j) {
      if (labels[j].first == labels[i].first) {
        return Invalid(name, "label '" + labels[i].first + "' given twice");
      }
    }
  }
  return Ok();
}

Status CheckBounds(std::string_view name, const std::vector<double>& bounds) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      return Invalid(name, "histogram bounds must be finite and strictly ascending");
    }
  }
  return Ok();
}

// HELP text escapes backslash and newline; label values also escape the double quote.
std::string Escape(std::string_view text, bool quote) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatDouble(double v, bool fixed) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = fixed ? std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed)
                 : std::to_chars(buf, buf + sizeof(buf), v);
  if (r.ec != std::errc()) return "NaN";  // cannot happen with 64 bytes for shortest forms
  return std::string(buf, r.ptr);
}

// {a="x",b="y"} (with an extra le="..." for buckets); empty when there are no labels.
std::string LabelSet(const Family& f, const Family::Series& s, const std::string* le) {
  std::string out;
  for (size_t i = 0; i < f.label_names.size(); ++i) {
    out += (out.empty() ? "{" : ",") + f.label_names[i] + "=\"" + Escape(s.label_values[i], true) +
           "\"";
  }
  if (le != nullptr) out += (out.empty() ? "{" : ",") + std::string("le=\"") + *le + "\"";
  if (!out.empty()) out += "}";
  return out;
}

void RenderHistogram(const Family& f, const Family::Series& s, std::string* out) {
  Histogram::Snapshot snap = s.histogram->Read();
  for (size_t i = 0; i <= f.bounds.size(); ++i) {
    std::string le = i < f.bounds.size() ? FormatDouble(f.bounds[i], true) : "+Inf";
    *out +=
        f.name + "_bucket" + LabelSet(f, s, &le) + " " + std::to_string(snap.cumulative[i]) + "\n";
  }
  *out += f.name + "_sum" + LabelSet(f, s, nullptr) + " " + FormatDouble(snap.sum, false) + "\n";
  *out += f.name + "_count" + LabelSet(f, s, nullptr) + " " + std::to_string(snap.count) + "\n";
}

void RenderFamily(const Family& f, std::string* out) {
  *out += "# HELP " + f.name + " " + Escape(f.help, false) + "\n";
  *out += "# TYPE " + f.name + " " + std::string(kTypeNames[f.type]) + "\n";
  for (const auto& s : f.series) {
    if (f.type == kHistogramType) {
      RenderHistogram(f, s, out);
    } else if (f.type == kCounterType) {
      *out += f.name + LabelSet(f, s, nullptr) + " " + std::to_string(s.counter->Value()) + "\n";
    } else {
      *out += f.name + LabelSet(f, s, nullptr) + " " + std::to_string(s.gauge->Value()) + "\n";
    }
  }
}

Family::Series* FindSeries(Family* f, const MetricLabels& labels) {
  for (auto& s : f->series) {
    bool same = true;
    for (size_t i = 0; i < labels.size() && same; ++i) same = s.label_values[i] == labels[i].second;
    if (same) return &s;
  }
  return nullptr;
}

Family::Series* AddSeries(Family* f, const MetricLabels& labels) {
  Family::Series s;
  for (const auto& [k, v] : labels) s.label_values.push_back(v);
  if (f->type == kCounterType) s.counter = std::make_unique<Counter>();
  if (f->type == kGaugeType) s.gauge = std::make_unique<Gauge>();
  if (f->type == kHistogramType) s.histogram = std::make_unique<Histogram>(f->bounds);
  f->series.push_back(std::move(s));
  return &f->series.back();
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  if (std::isnan(value)) return;  // would poison the sum; no bucket holds it
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snap;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snap.cumulative.push_back(running);
  }
  snap.count = running;
  snap.sum = sum_.load(std::memory_order_relaxed);
  return snap;
}

std::vector<double> LatencyBuckets() {
  return {50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3,
          50e-3, 100e-3, 250e-3, 500e-3, 1.0,  2.5,    5.0,  10.0};
}

std::vector<double> ExponentialBuckets(double start, double factor, size_t count) {
  std::vector<double> out;
  for (double v = start; out.size() < count; v *= factor) out.push_back(v);
  return out;
}

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

Result<MetricsRegistry::Family*> MetricsRegistry::FindOrAddFamily(
    std::string_view name, std::string_view help, int type, const MetricLabels& labels,
    const std::vector<double>& bounds) {
  if (!ValidMetricName(name)) return Invalid(name, "bad metric name");
  RETURN_IF_ERROR(CheckLabels(name, labels));
  if (type == kHistogramType) RETURN_IF_ERROR(CheckBounds(name, bounds));
  std::vector<std::string> label_names;
  for (const auto& [k, v] : labels) label_names.push_back(k);
  for (auto& f : families_) {
    if (f->name != name) continue;
    if (f->type != type)
      return Invalid(name, "already registered as a " + std::string(kTypeNames[f->type]));
    if (f->label_names != label_names)
      return Invalid(name, "label names differ from the first registration");
    if (f->bounds != bounds)
      return Invalid(name, "histogram bounds differ from the first registration");
    return f.get();
  }
  auto f = std::make_unique<Family>();
  f->name = std::string(name);
  f->help = std::string(help);
  f->type = type;
  f->label_names = std::move(label_names);
  f->bounds = bounds;
  families_.push_back(std::move(f));
  return families_.back().get();
}

Result<Counter*> MetricsRegistry::AddCounter(std::string_view name, std::string_view help,
                                             const MetricLabels& labels) {
  std::string full(name);
  if (!full.ends_with("_total")) full += "_total";
  std::lock_guard<std::mutex> lock(mu_);
  TRY(Family * f, FindOrAddFamily(full, help, kCounterType, labels, {}));
  Family::Series* s = FindSeries(f, labels);
  return (s != nullptr ? s : AddSeries(f, labels))->counter.get();
}

Result<Gauge*> MetricsRegistry::AddGauge(std::string_view name, std::string_view help,
                                         const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  TRY(Family * f, FindOrAddFamily(name, help, kGaugeType, labels, {}));
  Family::Series* s = FindSeries(f, labels);
  return (s != nullptr ? s : AddSeries(f, labels))->gauge.get();
}

Result<Histogram*> MetricsRegistry::AddHistogram(std::string_view name, std::string_view help,
                                                 const std::vector<double>& bounds,
                                                 const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  TRY(Family * f, FindOrAddFamily(name, help, kHistogramType, labels, bounds));
  Family::Series* s = FindSeries(f, labels);
  return (s != nullptr ? s : AddSeries(f, labels))->histogram.get();
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& f : families_) RenderFamily(*f, &out);
  return out;
}

}  // namespace tessera
