// MetricsRegistry: registration rules, concurrent updates, and the Prometheus text format,
// checked by parsing the rendered text back line by line.
#include "tessera/common/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace tessera {
namespace {

// One sample line: name, labels (in order of appearance) and value.
struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  std::string value;
};

// A small parser for the exposition format: HELP/TYPE comments and samples, with label-value
// unescaping. Fails the test on any line that does not parse.
struct Exposition {
  std::map<std::string, std::string> help, type;
  std::vector<Sample> samples;
  std::vector<std::string> order;  // family names as their TYPE lines appear

  explicit Exposition(const std::string& text) {
    EXPECT_TRUE(text.empty() || text.back() == '\n');
    std::istringstream in(text);
    std::string line;
    static const std::regex kHelp(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*))");
    static const std::regex kType(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
    static const std::regex kSample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+))");
    while (std::getline(in, line)) {
      std::smatch m;
      if (std::regex_match(line, m, kHelp)) {
        help[m[1]] = m[2];
      } else if (std::regex_match(line, m, kType)) {
        type[m[1]] = m[2];
        order.push_back(m[1]);
      } else if (std::regex_match(line, m, kSample)) {
        samples.push_back({m[1], ParseLabels(m[2]), m[3]});
      } else {
        ADD_FAILURE() << "unparsable line: " << line;
      }
    }
  }

  static std::vector<std::pair<std::string, std::string>> ParseLabels(std::string s) {
    std::vector<std::pair<std::string, std::string>> out;
    if (s.empty()) return out;
    size_t i = 1;  // after '{'
    while (i < s.size() && s[i] != '}') {
      size_t eq = s.find('=', i);
      std::string name = s.substr(i, eq - i);
      EXPECT_EQ(s[eq + 1], '"');
      std::string value;
      for (i = eq + 2; s[i] != '"'; ++i) {
        if (s[i] == '\\') {
          ++i;
          value.push_back(s[i] == 'n' ? '\n' : s[i]);
        } else {
          value.push_back(s[i]);
        }
      }
      out.emplace_back(name, value);
      ++i;  // closing quote
      if (s[i] == ',') ++i;
    }
    return out;
  }

  std::vector<Sample> Named(const std::string& name) const {
    std::vector<Sample> out;
    for (const auto& s : samples) {
      if (s.name == name) out.push_back(s);
    }
    return out;
  }
};

TEST(MetricsTest, CountersAndGaugesRender) {
  MetricsRegistry reg;
  auto bytes = reg.AddCounter("tessera_backend_read_bytes_total", "Compressed bytes read.");
  auto reads = reg.AddCounter("tessera_fuse_ops", "FUSE ops.", {{"op", "read"}});
  auto lookups = reg.AddCounter("tessera_fuse_ops", "FUSE ops.", {{"op", "lookup"}});
  auto usage = reg.AddGauge("tessera_cache_bytes", "Cache bytes in use.");
  ASSERT_TRUE(bytes && reads && lookups && usage);
  (*bytes)->Inc(4096);
  (*reads)->Inc();
  (*reads)->Inc(2);
  (*usage)->Set(100);
  (*usage)->Sub(30);
  EXPECT_EQ(reg.RenderPrometheus(),
            "# HELP tessera_backend_read_bytes_total Compressed bytes read.\n"
            "# TYPE tessera_backend_read_bytes_total counter\n"
            "tessera_backend_read_bytes_total 4096\n"
            "# HELP tessera_fuse_ops_total FUSE ops.\n"
            "# TYPE tessera_fuse_ops_total counter\n"
            "tessera_fuse_ops_total{op=\"read\"} 3\n"
            "tessera_fuse_ops_total{op=\"lookup\"} 0\n"
            "# HELP tessera_cache_bytes Cache bytes in use.\n"
            "# TYPE tessera_cache_bytes gauge\n"
            "tessera_cache_bytes 70\n");
}

TEST(MetricsTest, SameSeriesGivesSamePointer) {
  MetricsRegistry reg;
  auto a = reg.AddCounter("x_total", "h", {{"op", "read"}});
  auto b = reg.AddCounter("x", "other help", {{"op", "read"}});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
}

TEST(MetricsTest, RejectsBadRegistrations) {
  MetricsRegistry reg;
  ASSERT_TRUE(reg.AddCounter("ok", "h", {{"op", "read"}}));
  EXPECT_FALSE(reg.AddCounter("9bad", "h"));
  EXPECT_FALSE(reg.AddCounter("bad-name", "h"));
  EXPECT_FALSE(reg.AddGauge("ok_total", "h", {{"op", "read"}}));  // type clash
  EXPECT_FALSE(reg.AddCounter("ok", "h", {{"kind", "read"}}));    // label names differ
  EXPECT_FALSE(reg.AddCounter("ok", "h"));                        // label count differs
  EXPECT_FALSE(reg.AddGauge("g", "h", {{"__x", "1"}}));
  EXPECT_FALSE(reg.AddGauge("g", "h", {{"le", "1"}}));
  EXPECT_FALSE(reg.AddGauge("g", "h", {{"a", "1"}, {"a", "2"}}));
  EXPECT_FALSE(reg.AddHistogram("h", "h", {1, 1}));
  EXPECT_FALSE(reg.AddHistogram("h", "h", {2, 1}));
  EXPECT_FALSE(reg.AddHistogram("h", "h", {1, INFINITY}));
  ASSERT_TRUE(reg.AddHistogram("h", "h", {1, 2}));
  auto other_bounds = reg.AddHistogram("h", "h", {1, 3});
  ASSERT_FALSE(other_bounds);
  EXPECT_EQ(other_bounds.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(other_bounds.error().context.find("metric h"), std::string::npos);
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  MetricsRegistry reg;
  auto h =
      reg.AddHistogram("tessera_read_seconds", "Read latency.", LatencyBuckets(), {{"op", "read"}});
  ASSERT_TRUE(h);
  for (double v : {30e-6, 50e-6, 0.0003, 0.0003, 0.2, 7.0, 11.0, 100.0}) (*h)->Observe(v);
  (*h)->ObserveDuration(std::chrono::milliseconds(2));
  (*h)->Observe(NAN);  // ignored
  Exposition e(reg.RenderPrometheus());
  EXPECT_EQ(e.type["tessera_read_seconds"], "histogram");
  EXPECT_EQ(e.help["tessera_read_seconds"], "Read latency.");
  auto buckets = e.Named("tessera_read_seconds_bucket");
  ASSERT_EQ(buckets.size(), LatencyBuckets().size() + 1);
  std::map<std::string, uint64_t> by_le;
  uint64_t prev = 0;
  for (const auto& b : buckets) {
    ASSERT_EQ(b.labels.size(), 2u);
    EXPECT_EQ(b.labels[0], std::make_pair(std::string("op"), std::string("read")));
    EXPECT_EQ(b.labels[1].first, "le");
    uint64_t v = std::stoull(b.value);
    EXPECT_GE(v, prev) << "buckets must be cumulative";
    prev = v;
    by_le[b.labels[1].second] = v;
  }
  EXPECT_EQ(buckets.back().labels[1].second, "+Inf");
  EXPECT_EQ(by_le["0.00005"], 2u);  // 30 µs and 50 µs (le is inclusive)
  EXPECT_EQ(by_le["0.0005"], 4u);
  EXPECT_EQ(by_le["0.0025"], 5u);  // + 2 ms
  EXPECT_EQ(by_le["0.25"], 6u);
  EXPECT_EQ(by_le["10"], 7u);
  EXPECT_EQ(by_le["+Inf"], 9u);
  auto count = e.Named("tessera_read_seconds_count");
  auto sum = e.Named("tessera_read_seconds_sum");
  ASSERT_EQ(count.size(), 1u);
  ASSERT_EQ(sum.size(), 1u);
  EXPECT_EQ(count[0].value, "9");
  EXPECT_NEAR(std::stod(sum[0].value), 118.20268, 1e-9);
}

TEST(MetricsTest, EscapesHelpAndLabelValues) {
  MetricsRegistry reg;
  auto c = reg.AddCounter("esc", "line1\nback\\slash \"quoted\"", {{"path", "/a \"b\"\\c\nd"}});
  ASSERT_TRUE(c);
  std::string text = reg.RenderPrometheus();
  EXPECT_NE(text.find("# HELP esc_total line1\\nback\\\\slash \"quoted\"\n"), std::string::npos)
      << text;
  Exposition e(text);
  auto s = e.Named("esc_total");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].labels[0].second, "/a \"b\"\\c\nd");
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry reg;
  Counter* c = *reg.AddCounter("c", "h");
  Gauge* g = *reg.AddGauge("g", "h");
  Histogram* h = *reg.AddHistogram("h", "h", {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c->Inc();
        g->Add(2);
        g->Sub(1);
        h->Observe(i % 2 == 0 ? 0.25 : 1.0);
      }
    });
  }
  // Rendering while updating must be safe (checked by ASan/TSan builds).
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(reg.RenderPrometheus().empty());
  for (auto& t : threads) t.join();
  EXPECT_EQ(c->Value(), 40000u);
  EXPECT_EQ(g->Value(), 40000);
  Histogram::Snapshot snap = h->Read();
  EXPECT_EQ(snap.count, 40000u);
  EXPECT_EQ(snap.cumulative[0], 20000u);
  EXPECT_DOUBLE_EQ(snap.sum, 20000 * 0.25 + 20000 * 1.0);
}

TEST(MetricsTest, BucketHelpers) {
  auto latency = LatencyBuckets();
  EXPECT_DOUBLE_EQ(latency.front(), 50e-6);
  EXPECT_DOUBLE_EQ(latency.back(), 10.0);
  EXPECT_TRUE(std::is_sorted(latency.begin(), latency.end()));
  EXPECT_EQ(ExponentialBuckets(4096, 4, 4), (std::vector<double>{4096, 16384, 65536, 262144}));
}

}  // namespace
}  // namespace tessera
