// A ByteStream that reads a ByteSource from start to end.
#pragma once

#include <algorithm>

#include "tessera/common/io.h"

namespace tessera::builder {

class SourceStream final : public ByteStream {
 public:
  explicit SourceStream(const ByteSource& source) : source_(source) {}
  Result<size_t> Read(std::span<uint8_t> out) override {
    uint64_t left = source_.Size() - offset_;
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, out.size()));
    if (n == 0) return size_t{0};
    RETURN_IF_ERROR(source_.ReadAt(offset_, out.first(n)));
    offset_ += n;
    return n;
  }

 private:
  const ByteSource& source_;
  uint64_t offset_ = 0;
};

}  // namespace tessera::builder
