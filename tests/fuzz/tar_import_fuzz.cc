// libFuzzer target for the tar importer: feeds the input as a layer stream (plain, gzip or
// zstd) through ImportTar with a store that drains every file's bytes, then checks the tree's
// invariants: every name is a valid single component, nothing escapes or loops, hard links
// never name directories. Memory per input is bounded (files are counted, not kept).
#include <sys/stat.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "content/content_store.h"
#include "tar/tar_import.h"

#include "tessera/common/io.h"
#include "tessera/erofs/tree.h"

namespace {

using tessera::Result;
using tessera::builder::ContentStore;
using tessera::builder::StoredContent;

// The input as a stream, in pieces whose size varies with the input (exercising libarchive's
// buffering across callback boundaries).
class SpanStream final : public tessera::ByteStream {
 public:
  SpanStream(const uint8_t* data, size_t size)
      : data_(data), size_(size), piece_(1 + (size > 0 ? data[size - 1] : 0) * 61) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    const size_t n = std::min({out.size(), piece_, size_ - pos_});
    std::memcpy(out.data(), data_ + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  size_t piece_;
};

// Reads every byte it is promised (up to a budget per input) and keeps none.
class DrainStore final : public ContentStore {
 public:
  Result<StoredContent> Ingest(tessera::ByteStream& in, uint64_t size,
                               const std::string& path) override {
    if (size > budget_) {
      return tessera::MakeError(tessera::ErrorCode::kTooLarge, path + ": over the fuzz budget");
    }
    budget_ -= size;
    uint8_t buf[16384];
    for (uint64_t left = size; left > 0;) {
      auto n = in.Read(std::span<uint8_t>(buf, std::min<uint64_t>(left, sizeof(buf))));
      if (!n.has_value()) return n.error();
      if (*n == 0) return tessera::MakeError(tessera::ErrorCode::kOutOfRange, "short stream");
      left -= *n;
    }
    return StoredContent{};
  }

 private:
  uint64_t budget_ = 64ull << 20;
};

bool ValidName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.size() <= 255 &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

// Walks from the root; traps on an invalid name, a directory reached twice or a cycle.
void CheckTree(const tessera::erofs::Tree& tree) {
  std::vector<uint8_t> seen_dir(tree.size(), 0);
  std::vector<tessera::erofs::NodeId> stack = {tree.root()};
  seen_dir[tree.root()] = 1;
  while (!stack.empty()) {
    const tessera::erofs::NodeId dir = stack.back();
    stack.pop_back();
    for (const auto& [name, child] : tree.node(dir).entries) {
      if (!ValidName(name) || child >= tree.size()) __builtin_trap();
      if (!tree.node(child).is_dir()) continue;
      if (seen_dir[child]) __builtin_trap();  // a directory linked twice or a loop
      seen_dir[child] = 1;
      stack.push_back(child);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SpanStream stream(data, size);
  DrainStore store;
  tessera::erofs::Tree tree;
  tessera::builder::TarImportOptions options;
  options.max_entries = 20000;
  options.convert_whiteouts = size % 2 == 0;
  auto stats = tessera::builder::ImportTar(stream, "fuzz.tar", tree, store, options);
  CheckTree(tree);  // a failed import leaves a partial tree, which must be sound too
  if (stats.has_value() && stats->entries > options.max_entries) __builtin_trap();
  return 0;
}
