// Shared fixture of the snapshotter unit tests: a Snapshotter on a fresh temporary root.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/common/io.h"
#include "tessera/common/logging.h"
#include "tessera/common/process.h"
#include "tessera/snapshotter/snapshotter.h"

namespace tessera::snapshotter::testing_util {

// Sorted names in a directory (empty if it does not exist).
inline std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class SnapshotterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("snapshotter-test");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
    Reopen();
  }
  void TearDown() override { snap_.reset(); }

  std::string root() const { return dir_->path() + "/root"; }
  void Reopen() {
    snap_.reset();
    SnapshotterOptions options;
    options.root = root();
    options.overlay_index_off = false;
    auto s = Snapshotter::Open(options, &logger_);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    snap_ = std::move(*s);
  }
  // A committed layer `name` on `parent` holding file "file" with `content`.
  void MakeLayer(const std::string& name, const std::string& parent, const std::string& content,
                 const Labels& labels = {}) {
    const std::string key = "extract " + name;
    auto mounts = snap_->Prepare(key, parent, {});
    ASSERT_TRUE(mounts.has_value()) << mounts.error().ToString();
    auto upper = UpperDir(mounts->front());
    WriteFileIn(upper + "/file", content);
    auto st = snap_->Commit(name, key, labels);
    ASSERT_TRUE(st.has_value()) << st.error().ToString();
  }
  static std::string UpperDir(const Mount& m) {
    if (m.type == "bind") return m.source;
    for (const auto& o : m.options) {
      if (o.starts_with("upperdir=")) return o.substr(9);
    }
    return "";
  }
  static void WriteFileIn(const std::string& path, const std::string& content) {
    std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(content.data()),
                                   content.size());
    ASSERT_TRUE(WriteFile(path, bytes).has_value()) << path;
  }
  static std::string ReadText(const std::string& path) {
    auto bytes = ReadFile(path);
    if (!bytes) return "<" + bytes.error().ToString() + ">";
    return std::string(bytes->begin(), bytes->end());
  }

  Logger logger_{LogLevel::kOff};
  std::optional<TempDir> dir_;
  std::unique_ptr<Snapshotter> snap_;
};

}  // namespace tessera::snapshotter::testing_util
