#include "content/content_store.h"

namespace tessera::builder {

Result<StoredContent> MemoryContentStore::Ingest(ByteStream& in, uint64_t size,
                                                 const std::string& path) {
  if (size > max_size_) {
    return MakeError(ErrorCode::kTooLarge,
                     path + ": " + std::to_string(size) + " bytes is over the in-memory limit");
  }
  StoredContent out;
  if (size == 0) return out;
  std::vector<uint8_t> data(static_cast<size_t>(size));
  RETURN_IF_ERROR(ReadExact(in, data, path));
  out.inline_data = std::make_shared<MemorySource>(std::move(data));
  return out;
}

}  // namespace tessera::builder
