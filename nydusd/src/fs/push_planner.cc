#include "fs/push_planner.h"

#include <algorithm>

namespace tessera::nydusd {

PushPlanner::PushPlanner(PushOptions options, SizeOf size_of)
    : options_(options), size_of_(std::move(size_of)) {}

void PushPlanner::Listed(uint64_t dir, Listing entries) {
  if (options_.window_bytes == 0 || !entries) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto known = dir_index_.find(dir);
  if (known != dir_index_.end()) {
    dirs_.splice(dirs_.begin(), dirs_, known->second);
    return;
  }
  if (entries->size() > options_.max_entries) return;  // would push out everything else
  while (!dirs_.empty() && entries_ + entries->size() > options_.max_entries) {
    Forget(std::prev(dirs_.end()));
  }
  const auto& list = *entries;
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i].type == erofs::FileType::kRegular) {
      files_[list[i].nid] = Pos{dir, static_cast<uint32_t>(i)};
    }
  }
  entries_ += list.size();
  dirs_.push_front(Dir{dir, std::move(entries), 0, std::nullopt, std::nullopt, 0});
  dir_index_[dir] = dirs_.begin();
}

void PushPlanner::Forget(DirList::iterator dir) {
  for (const erofs::DirEntry& e : *dir->entries) {
    auto f = files_.find(e.nid);
    if (f != files_.end() && f->second.dir == dir->nid) files_.erase(f);
  }
  entries_ -= dir->entries->size();
  dir_index_.erase(dir->nid);
  dirs_.erase(dir);
}

void PushPlanner::NoteRead(uint64_t nid) {
  if (options_.window_bytes == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto f = files_.find(nid);
  if (f == files_.end()) return;
  auto d = dir_index_.find(f->second.dir);
  if (d == dir_index_.end()) return;
  Dir& dir = *d->second;
  size_t index = f->second.index;
  if (!dir.reader || *dir.reader < index) dir.reader = index;
}

std::vector<PushItem> PushPlanner::AfterRead(uint64_t nid) {
  if (options_.window_bytes == 0) return {};
  std::lock_guard<std::mutex> lock(mu_);
  auto f = files_.find(nid);
  if (f == files_.end()) return {};
  auto d = dir_index_.find(f->second.dir);
  if (d == dir_index_.end()) return {};
  Dir& dir = *d->second;
  dirs_.splice(dirs_.begin(), dirs_, d->second);
  size_t index = f->second.index;
  if (!dir.last_read) {
    dir.window = std::min(options_.initial_window_bytes, options_.window_bytes);
  } else if (index > *dir.last_read) {
    dir.window = std::min(dir.window * 2, options_.window_bytes);
  } else {
    dir.window = std::min(options_.initial_window_bytes, options_.window_bytes);
    dir.last_read = index;
    return {};  // not a forward walk: nothing to guess
  }
  dir.last_read = index;
  // The reader may be further on than this read (pushes run behind reads): the window starts
  // where it is now.
  return Claim(dir, std::max(index, dir.reader.value_or(index)) + 1);
}

std::vector<PushItem> PushPlanner::Claim(Dir& dir, size_t from) {
  std::vector<PushItem> out;
  uint64_t budget = dir.window;
  const auto& list = *dir.entries;
  size_t i = from;
  for (size_t scanned = 0; i < list.size() && scanned < options_.max_scan; ++i, ++scanned) {
    if (list[i].type != erofs::FileType::kRegular) continue;
    std::optional<uint64_t> size = size_of_(list[i].nid);
    if (!size || *size == 0 || *size > options_.max_file_bytes) continue;
    if (*size > budget) break;  // beyond the window: a later read claims it
    budget -= *size;
    if (i >= dir.cursor) out.push_back(PushItem{list[i].nid, *size, dir.nid, i});  // else taken
  }
  dir.cursor = std::max(dir.cursor, i);
  return out;
}

bool PushPlanner::Passed(const PushItem& item) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto d = dir_index_.find(item.dir);
  if (d == dir_index_.end()) return false;
  const auto& reader = d->second->reader;
  return reader && *reader >= item.index;
}

size_t PushPlanner::indexed_entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_;
}

}  // namespace tessera::nydusd
