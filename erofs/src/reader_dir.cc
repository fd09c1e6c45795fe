// Directory blocks (§5): dirent validation, listing and lookup.
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "reader_state.h"

#include "tessera/erofs/format.h"

namespace tessera::erofs::internal {
namespace {

constexpr uint64_t kDirentSize = sizeof(Dirent);
constexpr uint8_t kMaxFileType = 7;

class BlockParser {
 public:
  BlockParser(const Image& image, uint64_t dir_nid, uint64_t block_index,
              std::span<const uint8_t> block)
      : image_(image), dir_nid_(dir_nid), block_index_(block_index), block_(block) {}

  // The block's first entry (validated), without parsing the rest.
  Result<DirEntry> First() const {
    TRY(const uint64_t count, Count());
    return Entry(0, count);
  }

  // Validates the whole block and appends its entries to `out`.
  Status Parse(std::vector<DirEntry>& out) {
    TRY(const uint64_t count, Count());
    for (uint64_t i = 0; i < count; ++i) {
      TRY(DirEntry entry, Entry(i, count));
      if (i > 0 && !(out.back().name < entry.name)) {
        return Fail(i, Cat("name '", entry.name, "' not after '", out.back().name, "'"));
      }
      out.push_back(std::move(entry));
    }
    return Ok();
  }

 private:
  Error Fail(uint64_t index, const std::string& what) const {
    return Corrupt(
        Cat("nid ", dir_nid_, ": dirent ", index, " in block ", block_index_, ": ", what));
  }

  Result<uint64_t> Count() const {
    if (block_.size() < kDirentSize) {
      return Fail(0, Cat("block holds only ", block_.size(), " bytes, less than one dirent"));
    }
    const uint16_t nameoff = LoadAt<Dirent>(block_, 0).nameoff;
    if (nameoff < kDirentSize || nameoff % kDirentSize != 0 || nameoff >= block_.size()) {
      return Fail(0, Cat("nameoff ", nameoff, " invalid (must be a multiple of 12, >= 12 and < ",
                         block_.size(), ")"));
    }
    return nameoff / kDirentSize;
  }

  // End of name i: the next dirent's nameoff, or for the last one the first NUL or block end.
  Result<uint64_t> NameEnd(uint64_t i, uint64_t count, uint16_t nameoff) const {
    if (i + 1 < count) {
      const uint16_t next = LoadAt<Dirent>(block_, (i + 1) * kDirentSize).nameoff;
      if (next <= nameoff || next > block_.size()) {
        return Fail(i + 1, Cat("nameoff ", next, " not increasing or past block end"));
      }
      return next;
    }
    const void* nul = std::memchr(block_.data() + nameoff, 0, block_.size() - nameoff);
    return nul == nullptr ? block_.size()
                          : static_cast<uint64_t>(static_cast<const uint8_t*>(nul) - block_.data());
  }

  Result<DirEntry> Entry(uint64_t i, uint64_t count) const {
    const auto de = LoadAt<Dirent>(block_, i * kDirentSize);
    const uint64_t names_start = count * kDirentSize;
    if (de.nameoff < names_start || de.nameoff >= block_.size()) {
      return Fail(
          i, Cat("nameoff ", de.nameoff,
                 de.nameoff >= block_.size() ? " past block end" : " inside the dirent array"));
    }
    TRY(const uint64_t end, NameEnd(i, count, de.nameoff));
    const uint64_t len = end - de.nameoff;
    if (len == 0 || len > kMaxNameLen) return Fail(i, Cat("name length ", len, " not in 1..255"));
    // SAFETY: uint8_t -> char view of validated bytes inside the block.
    std::string_view name(reinterpret_cast<const char*>(block_.data() + de.nameoff), len);
    if (name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos) {
      return Fail(i, "name contains '/' or NUL");
    }
    if (de.file_type > kMaxFileType) {
      return Fail(i, Cat("file_type ", unsigned{de.file_type}, " invalid"));
    }
    if (!InodeOffset(image_, de.nid)) {
      return Fail(i, Cat("nid ", de.nid, " past image end"));
    }
    return DirEntry{std::string(name), de.nid, static_cast<FileType>(de.file_type)};
  }

  const Image& image_;
  uint64_t dir_nid_;
  uint64_t block_index_;
  std::span<const uint8_t> block_;
};

Status CheckIsDir(const InodeInfo& dir) {
  if (S_ISDIR(dir.mode)) return Ok();
  return MakeError(ErrorCode::kInvalidArgument, Cat("nid ", dir.nid, ": not a directory"));
}

uint64_t BlockCount(const Image& image, const InodeInfo& dir) {
  return DivRoundUp(dir.size, image.blksz);
}

Result<std::vector<DirEntry>> ParseBlock(const Image& image, const InodeInfo& dir, uint64_t index) {
  TRY(const auto block, MetaDataBlock(image, dir, index));
  std::vector<DirEntry> entries;
  RETURN_IF_ERROR(BlockParser(image, dir.nid, index, block).Parse(entries));
  return entries;
}

Result<DirEntry> FirstEntryOfBlock(const Image& image, const InodeInfo& dir, uint64_t index) {
  TRY(const auto block, MetaDataBlock(image, dir, index));
  return BlockParser(image, dir.nid, index, block).First();
}

}  // namespace

Result<std::vector<DirEntry>> ReadDirectory(const Image& image, const InodeInfo& dir) {
  RETURN_IF_ERROR(CheckIsDir(dir));
  std::vector<DirEntry> entries;
  const uint64_t blocks = BlockCount(image, dir);
  for (uint64_t b = 0; b < blocks; ++b) {
    const size_t before = entries.size();
    TRY(const auto block, MetaDataBlock(image, dir, b));
    RETURN_IF_ERROR(BlockParser(image, dir.nid, b, block).Parse(entries));
    // Names sort across blocks too: lookups binary-search blocks by their first name.
    if (before > 0 && !(entries[before - 1].name < entries[before].name)) {
      return Corrupt(Cat("nid ", dir.nid, ": block ", b, " starts with '", entries[before].name,
                         "', not after '", entries[before - 1].name, "' ending block ", b - 1));
    }
  }
  return entries;
}

Result<DirEntry> LookupName(const Image& image, const InodeInfo& dir, std::string_view name) {
  RETURN_IF_ERROR(CheckIsDir(dir));
  const uint64_t blocks = BlockCount(image, dir);
  // Find the last block whose first name is <= name: only first entries are decoded while
  // searching, then that one block is parsed (and validated) whole.
  uint64_t lo = 0;
  uint64_t hi = blocks;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    TRY(const DirEntry first, FirstEntryOfBlock(image, dir, mid));
    if (std::string_view(first.name) <= name) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  std::vector<DirEntry> candidate;
  if (lo > 0) {
    TRY(candidate, ParseBlock(image, dir, lo - 1));
  }
  // Within the block: entries are sorted, so binary search.
  auto it = std::lower_bound(candidate.begin(), candidate.end(), name,
                             [](const DirEntry& e, std::string_view n) { return e.name < n; });
  if (it != candidate.end() && it->name == name) return std::move(*it);
  return MakeError(ErrorCode::kNotFound,
                   Cat("nid ", dir.nid, ": no entry named '", std::string(name), "'"));
}

}  // namespace tessera::erofs::internal
