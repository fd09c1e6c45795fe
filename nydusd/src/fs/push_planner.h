// PushPlanner: which small files to push into the kernel's page cache after a read, so that a
// reader walking a directory in listing order (tar, cp -r, a container's first scan of a package
// tree) finds the next files' bytes already there and sends no request for them.
//
// It learns each directory's listing order from the listings it serves (Listed) and keeps, per
// recently listed directory, how far ahead files were claimed and how far the reader has got
// (NoteRead, at each first read of a file). After such a read (AfterRead, which may run later,
// off the request path) it claims the small regular files that follow the reader's position in
// the listing, up to a byte window measured from there; each further forward read in that
// directory doubles the window up to its maximum, like the kernel's readahead; a backward read
// resets it and claims nothing. A file is claimed at most once per listing, so concurrent or
// late calls never push the same file twice nor run further ahead of the reader than the window.
// The caller decides whether a claimed file's bytes are available (it pushes cached data only).
//
// Memory: at most max_entries listing entries are indexed (oldest directories dropped first).
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "tessera/erofs/reader.h"

namespace tessera::nydusd {

struct PushOptions {
  uint64_t window_bytes = 1u << 20;            // largest window ahead of a reader; 0 = off
  uint64_t initial_window_bytes = 128u << 10;  // after the first read in a directory
  uint64_t max_file_bytes = 128u << 10;        // larger files are left to the kernel's readahead
  size_t max_entries = 256u << 10;             // listing entries indexed at once
  size_t max_scan = 1024;                      // entries examined per read
};

struct PushItem {
  uint64_t nid = 0;
  uint64_t size = 0;
  uint64_t dir = 0;
  size_t index = 0;  // in the directory's listing
};

class PushPlanner {
 public:
  // Size of a regular file, or nullopt for anything else.
  using SizeOf = std::function<std::optional<uint64_t>(uint64_t nid)>;
  using Listing = std::shared_ptr<const std::vector<erofs::DirEntry>>;

  PushPlanner(PushOptions options, SizeOf size_of);

  // Directory `dir` was listed (first page); a listing already known keeps its progress.
  void Listed(uint64_t dir, Listing entries);
  // File `nid` was read from its start (cheap: call it on the request path).
  void NoteRead(uint64_t nid);
  // After NoteRead(nid): the files to push now, in listing order.
  std::vector<PushItem> AfterRead(uint64_t nid);
  // Whether the reader has read `item` itself meanwhile (pushing it is then wasted work).
  bool Passed(const PushItem& item) const;

  size_t indexed_entries() const;

 private:
  struct Dir {
    uint64_t nid = 0;
    Listing entries;
    size_t cursor = 0;                // entries before it were claimed or passed over
    std::optional<size_t> last_read;  // listing index of the previous AfterRead
    std::optional<size_t> reader;     // furthest listing index read (NoteRead)
    uint64_t window = 0;
  };
  struct Pos {
    uint64_t dir = 0;
    uint32_t index = 0;
  };
  using DirList = std::list<Dir>;

  void Forget(DirList::iterator dir);
  std::vector<PushItem> Claim(Dir& dir, size_t from);

  const PushOptions options_;
  const SizeOf size_of_;
  mutable std::mutex mu_;
  DirList dirs_;  // most recently used first
  std::unordered_map<uint64_t, DirList::iterator> dir_index_;
  std::unordered_map<uint64_t, Pos> files_;  // regular file nid -> where it was listed
  size_t entries_ = 0;
};

}  // namespace tessera::nydusd
