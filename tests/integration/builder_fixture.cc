#include "builder_fixture.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

namespace tessera::testing {

bool BuilderTest::MakeDir(const std::string& path) { return ::mkdir(path.c_str(), 0755) == 0; }

std::string BuilderTest::Image(std::vector<std::string> args, int expect) {
  args.insert(args.begin(), BinPath("tessera-image"));
  auto r = RunCapture(args);
  EXPECT_TRUE(r) << r.error().ToString();
  if (!r) return "";
  EXPECT_EQ(r->exit_code, expect) << Describe(args, *r);
  return r->output;
}

BuilderTest::Created BuilderTest::Create(const std::string& source, const std::string& bootstrap,
                                         std::vector<std::string> extra) {
  std::vector<std::string> args = {"create",  "--json",     "--bootstrap",
                                   bootstrap, "--blob-dir", blobs_};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(source);
  std::string out = Image(args);
  Created c;
  auto j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out;
  if (j.is_discarded()) return c;
  c.blob_bytes = j["blob_bytes"];
  c.stored_bytes = j["stored_bytes"];
  c.blob_id = j["blob_id"];
  return c;
}

std::vector<std::string> BuilderTest::Export(const std::string& bootstrap) {
  std::string dir = Path("raw" + std::to_string(counter_++));
  EXPECT_TRUE(MakeDir(dir));
  std::string out =
      Image({"export", "--json", "--bootstrap", bootstrap, "--blob-dir", blobs_, "--output", dir});
  auto j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out;
  if (j.is_discarded()) return {};
  return j["devices"].get<std::vector<std::string>>();
}

void BuilderTest::Fsck(const std::string& bootstrap, const std::vector<std::string>& devices) {
  std::vector<std::string> args = {"fsck.erofs"};
  for (const auto& d : devices) args.push_back("--device=" + d);
  args.push_back(bootstrap);
  auto r = RunCapture(args);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 0) << Describe(args, *r);
}

Result<ScopedMount> BuilderTest::Mount(const std::string& bootstrap,
                                       const std::vector<std::string>& devices) {
  return ScopedMount::Erofs(bootstrap, Path("mnt" + std::to_string(counter_++)), devices);
}

void BuilderTest::ExpectSameTree(const std::string& expected, const std::string& actual,
                                 const CompareOptions& options) {
  auto diffs = CompareTrees(expected, actual, options);
  ASSERT_TRUE(diffs) << diffs.error().ToString();
  EXPECT_TRUE(diffs->empty()) << FormatDiffs(*diffs);
}

}  // namespace tessera::testing
