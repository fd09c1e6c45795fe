// PushPlanner (nydusd/src/fs/push_planner.cc): which small files follow a read in listing order.
#include "fs/push_planner.h"

#include <gtest/gtest.h>

#include <map>

namespace tessera::nydusd {
namespace {

using erofs::DirEntry;
using erofs::FileType;

// A directory listing: ".", "..", then regular files (nid 100 + i) of the given sizes, with a
// subdirectory inserted where size is -1.
struct FakeDir {
  std::map<uint64_t, uint64_t> sizes;
  std::shared_ptr<std::vector<DirEntry>> entries = std::make_shared<std::vector<DirEntry>>();

  explicit FakeDir(const std::vector<int64_t>& file_sizes, uint64_t first_nid = 100) {
    entries->push_back({".", 1, FileType::kDirectory});
    entries->push_back({"..", 1, FileType::kDirectory});
    for (size_t i = 0; i < file_sizes.size(); ++i) {
      uint64_t nid = first_nid + i;
      if (file_sizes[i] < 0) {
        entries->push_back({"d" + std::to_string(i), nid, FileType::kDirectory});
        continue;
      }
      entries->push_back({"f" + std::to_string(i), nid, FileType::kRegular});
      sizes[nid] = static_cast<uint64_t>(file_sizes[i]);
    }
  }
  PushPlanner::SizeOf size_of() const {
    return [this](uint64_t nid) -> std::optional<uint64_t> {
      auto it = sizes.find(nid);
      return it == sizes.end() ? std::nullopt : std::optional<uint64_t>(it->second);
    };
  }
};

std::vector<uint64_t> Nids(const std::vector<PushItem>& items) {
  std::vector<uint64_t> out;
  for (const auto& i : items) out.push_back(i.nid);
  return out;
}

PushOptions Small() {
  PushOptions o;
  o.initial_window_bytes = 20;
  o.window_bytes = 80;
  o.max_file_bytes = 10;
  return o;
}

TEST(PushPlannerTest, ForwardReadsClaimFollowingFilesWithAGrowingWindow) {
  FakeDir dir(std::vector<int64_t>(40, 10));
  PushPlanner p(Small(), dir.size_of());
  p.Listed(7, dir.entries);
  // First read: the initial window (20 bytes = 2 files) after file 100.
  EXPECT_EQ(Nids(p.AfterRead(100)), (std::vector<uint64_t>{101, 102}));
  // The reader found 101 and 102 pushed and asked for 103: the window doubles to 4 files.
  EXPECT_EQ(Nids(p.AfterRead(103)), (std::vector<uint64_t>{104, 105, 106, 107}));
  // Then 8 files (80 bytes, the maximum), and the maximum stays.
  EXPECT_EQ(Nids(p.AfterRead(108)).size(), 8u);
  EXPECT_EQ(Nids(p.AfterRead(117)).front(), 118u);
  EXPECT_EQ(Nids(p.AfterRead(117 + 9)).size(), 8u);
}

TEST(PushPlannerTest, AFileIsClaimedOnceEvenWhenItsReaderRacesThePush) {
  FakeDir dir(std::vector<int64_t>(10, 10));
  PushPlanner p(Small(), dir.size_of());
  p.Listed(7, dir.entries);
  EXPECT_EQ(Nids(p.AfterRead(100)), (std::vector<uint64_t>{101, 102}));
  // 101 was read before its push landed: the window (now 4 files from the reader) ends at 105
  // and 102 is not claimed twice.
  EXPECT_EQ(Nids(p.AfterRead(101)), (std::vector<uint64_t>{103, 104, 105}));
  // Near the end of the listing only what is left is claimed; past it, nothing.
  EXPECT_EQ(Nids(p.AfterRead(106)), (std::vector<uint64_t>{107, 108, 109}));
  EXPECT_TRUE(p.AfterRead(109).empty());
}

TEST(PushPlannerTest, SkipsLargeEmptyAndNonRegularEntries) {
  // 101 too large, 102 a directory, 103 empty, then small files.
  FakeDir dir({10, 11, -1, 0, 5, 5, 5});
  PushPlanner p(Small(), dir.size_of());
  p.Listed(7, dir.entries);
  EXPECT_EQ(Nids(p.AfterRead(100)), (std::vector<uint64_t>{104, 105, 106}));
}

TEST(PushPlannerTest, ABackwardReadResetsTheWindowAndClaimsNothing) {
  FakeDir dir(std::vector<int64_t>(40, 10));
  PushPlanner p(Small(), dir.size_of());
  p.Listed(7, dir.entries);
  EXPECT_EQ(p.AfterRead(120).size(), 2u);
  EXPECT_EQ(p.AfterRead(123).size(), 4u);
  EXPECT_TRUE(p.AfterRead(105).empty());  // random access: no guessing
  // Forward again from there: the window (4 files now) lies in what was claimed before.
  EXPECT_TRUE(p.AfterRead(110).empty());
  // Further on, past the claimed files, claiming goes on (8 files).
  EXPECT_EQ(Nids(p.AfterRead(127)),
            (std::vector<uint64_t>{128, 129, 130, 131, 132, 133, 134, 135}));
}

TEST(PushPlannerTest, UnlistedFilesAndDisabledPlannerPushNothing) {
  FakeDir dir(std::vector<int64_t>(5, 10));
  PushPlanner p(Small(), dir.size_of());
  EXPECT_TRUE(p.AfterRead(100).empty());  // its directory was never listed
  PushOptions off = Small();
  off.window_bytes = 0;
  PushPlanner q(off, dir.size_of());
  q.Listed(7, dir.entries);
  EXPECT_TRUE(q.AfterRead(100).empty());
  EXPECT_EQ(q.indexed_entries(), 0u);
}

TEST(PushPlannerTest, ListingAgainKeepsProgress) {
  FakeDir dir(std::vector<int64_t>(10, 10));
  PushPlanner p(Small(), dir.size_of());
  p.Listed(7, dir.entries);
  EXPECT_EQ(Nids(p.AfterRead(100)), (std::vector<uint64_t>{101, 102}));
  p.Listed(7, dir.entries);  // a second listing (another reader) must not re-push 101, 102
  EXPECT_EQ(Nids(p.AfterRead(101)), (std::vector<uint64_t>{103, 104, 105}));
}

TEST(PushPlannerTest, ALateCallClaimsFromWhereTheReaderIsNow) {
  FakeDir dir(std::vector<int64_t>(40, 10));
  PushPlanner p(Small(), dir.size_of());
  p.Listed(7, dir.entries);
  // The pushes run behind the reads: by the time the call for 100 runs, 100..110 were read.
  for (uint64_t nid = 100; nid <= 110; ++nid) p.NoteRead(nid);
  EXPECT_EQ(Nids(p.AfterRead(100)), (std::vector<uint64_t>{111, 112}));
  // Later calls grow the window, always measured from the reader (after 110), never further.
  EXPECT_EQ(Nids(p.AfterRead(101)), (std::vector<uint64_t>{113, 114}));
  EXPECT_EQ(Nids(p.AfterRead(102)), (std::vector<uint64_t>{115, 116, 117, 118}));
  EXPECT_TRUE(p.AfterRead(103).empty()) << "8 files after the reader are claimed already";
  // A claimed file the reader reads before it is pushed is reported as passed.
  auto items = p.AfterRead(111);  // the 8 files after 111: only 119 is new
  ASSERT_FALSE(items.empty());
  EXPECT_FALSE(p.Passed(items.front()));
  p.NoteRead(items.front().nid);
  EXPECT_TRUE(p.Passed(items.front()));
}

TEST(PushPlannerTest, OldestDirectoriesAreForgottenWithinTheEntryBound) {
  PushOptions o = Small();
  o.max_entries = 25;  // room for two 12-entry listings, not three
  FakeDir a(std::vector<int64_t>(10, 10), 100), b(std::vector<int64_t>(10, 10), 200),
      c(std::vector<int64_t>(10, 10), 300);
  std::map<uint64_t, uint64_t> all;
  for (const FakeDir* d : {&a, &b, &c}) all.insert(d->sizes.begin(), d->sizes.end());
  PushPlanner p(o, [&all](uint64_t nid) -> std::optional<uint64_t> { return all.at(nid); });
  p.Listed(1, a.entries);
  p.Listed(2, b.entries);
  EXPECT_EQ(p.indexed_entries(), 24u);
  EXPECT_FALSE(p.AfterRead(100).empty());  // a is now the most recently used
  p.Listed(3, c.entries);                  // b goes
  EXPECT_EQ(p.indexed_entries(), 24u);
  EXPECT_TRUE(p.AfterRead(200).empty());
  EXPECT_FALSE(p.AfterRead(300).empty());
  EXPECT_FALSE(p.AfterRead(103).empty());
  // A listing larger than the whole bound is not indexed at all.
  FakeDir huge(std::vector<int64_t>(30, 10), 400);
  p.Listed(4, huge.entries);
  EXPECT_EQ(p.indexed_entries(), 24u);
}

}  // namespace
}  // namespace tessera::nydusd
