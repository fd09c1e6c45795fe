// ImportTar on hand-crafted hostile archives: every case ends in a clear error naming the
// entry, or in a documented safe tree; never a crash, a hang or a name outside the root.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "content/content_store.h"
#include "tar/tar_import.h"
#include "unit/builder/tar_test_util.h"

#include "tessera/common/process.h"

namespace tessera::builder {
namespace {

using tartest::Header;
using tartest::ImportBytes;
using tartest::StringStream;
using tartest::TarWriter;

// Expects failure with `code` and a message containing every string in `parts`.
void ExpectError(const Result<TarImportStats>& r, ErrorCode code,
                 const std::vector<std::string>& parts) {
  ASSERT_FALSE(r.has_value()) << "expected " << ErrorCodeName(code);
  EXPECT_EQ(r.error().code, code) << r.error().ToString();
  for (const std::string& p : parts) {
    EXPECT_NE(r.error().ToString().find(p), std::string::npos)
        << "'" << p << "' not in: " << r.error().ToString();
  }
}

TEST(TarImportHostileTest, DotDotComponentsAreRejected) {
  for (const std::string& name :
       std::vector<std::string>{"../x", "a/../../x", "a/b/..", "./../x", "//..//x"}) {
    TarWriter w;
    w.AddFile("ok", "fine");
    w.AddFile(name, "escape");
    erofs::Tree tree;
    ExpectError(ImportBytes(w.Finish(), tree), ErrorCode::kCorrupt,
                {"test.tar", "'" + name + "'", "'..'", "header at byte 1024"});
    EXPECT_FALSE(tree.Find("x").has_value()) << name;
  }
}

TEST(TarImportHostileTest, DotDotThroughPaxAndGnuLongNames) {
  TarWriter pax;
  pax.AddPax({{"path", "a/../../etc/passwd"}});
  pax.AddFile("harmless", "x");
  erofs::Tree tree;
  ExpectError(ImportBytes(pax.Finish(), tree), ErrorCode::kCorrupt, {"a/../../etc/passwd"});

  TarWriter gnu;
  gnu.AddGnuLong('L', std::string(120, 'd') + "/../../../x");
  gnu.AddFile("harmless", "x");
  erofs::Tree tree2;
  ExpectError(ImportBytes(gnu.Finish(), tree2), ErrorCode::kCorrupt, {"'..'"});

  TarWriter link;
  link.AddFile("f", "x");
  link.AddHardLink("h", "../../etc/shadow");
  erofs::Tree tree3;
  ExpectError(ImportBytes(link.Finish(), tree3), ErrorCode::kCorrupt,
              {"hard link target", "../../etc/shadow"});
}

TEST(TarImportHostileTest, AbsoluteAndDottedNamesAreNormalised) {
  TarWriter w;
  w.AddFile("/abs/file", "a");
  w.AddFile("./x//y/./z", "b");
  w.AddFile("///root_level", "c");
  erofs::Tree tree;
  auto r = ImportBytes(w.Finish(), tree);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(tree.Find("abs/file").has_value());
  EXPECT_EQ(tartest::NodeBytes(tree.node(*tree.Find("abs/file"))), "a");
  EXPECT_EQ(tartest::NodeBytes(tree.node(*tree.Find("x/y/z"))), "b");
  EXPECT_EQ(tartest::NodeBytes(tree.node(*tree.Find("root_level"))), "c");
}

// Symlink "a" -> "/etc", then "a/passwd": never followed, never turned into a directory.
TEST(TarImportHostileTest, NameBelowSymlinkIsAnError) {
  TarWriter w;
  w.AddSymlink("a", "/etc");
  w.AddFile("a/passwd", "root::0:0::/:/bin/sh\n");
  erofs::Tree tree;
  ExpectError(ImportBytes(w.Finish(), tree), ErrorCode::kCorrupt,
              {"'a/passwd'", "parent 'a' is a symlink"});
  ASSERT_TRUE(tree.Find("a").has_value());
  EXPECT_TRUE(S_ISLNK(tree.node(*tree.Find("a")).mode));

  TarWriter f;
  f.AddFile("d/file", "x");
  f.AddFile("d/file/below", "y");
  erofs::Tree tree2;
  ExpectError(ImportBytes(f.Finish(), tree2), ErrorCode::kCorrupt,
              {"parent 'd/file' is a regular file"});
}

std::string ArchiveWithData() {
  TarWriter w;
  w.AddDir("dir/");
  w.AddFile("dir/big", std::string(10000, 'b'));
  w.AddFile("dir/small", "small");
  return w.Finish();
}

TEST(TarImportHostileTest, TruncatedArchivesFail) {
  const std::string full = ArchiveWithData();
  // Mid-data of "dir/big" (header at 512, data from 1024), mid-header of "dir/small".
  for (size_t cut : {size_t{3000}, size_t{1024 + 9999}, size_t{11264 + 100}, size_t{700}}) {
    erofs::Tree tree;
    ExpectError(ImportBytes(full.substr(0, cut), tree), ErrorCode::kCorrupt, {"test.tar"});
  }
}

TEST(TarImportHostileTest, EveryCutPointEndsCleanly) {
  const std::string full = ArchiveWithData();
  const size_t entries_end = full.size() - 1024;  // the end-of-archive blocks follow
  for (size_t cut = 0; cut < full.size(); cut += 61) {
    erofs::Tree tree;
    auto r = ImportBytes(full.substr(0, cut), tree, {}, 97);
    if (r.has_value()) {
      // Only a cut at an entry boundary or inside the end blocks can pass, and then every
      // file present is complete.
      EXPECT_TRUE(cut % 512 == 0 || cut >= entries_end) << cut;
      if (auto big = tree.Find("dir/big")) {
        EXPECT_EQ(tree.node(*big).size, 10000u);
      }
    }
  }
}

TEST(TarImportHostileTest, TruncatedCompressedStreamsFail) {
  auto dir = TempDir::Create("tar-trunc");
  ASSERT_TRUE(dir.has_value());
  const std::string tar = dir->path() + "/a.tar";
  const std::string archive = ArchiveWithData();
  ASSERT_TRUE(WriteFile(tar, std::vector<uint8_t>(archive.begin(), archive.end())).has_value());
  ASSERT_TRUE(tartest::RunTool({"gzip", "-k", tar}).has_value());
  ASSERT_TRUE(tartest::RunTool({"zstd", "-q", tar, "-o", tar + ".zst"}).has_value());
  for (const std::string& path : std::vector<std::string>{tar + ".gz", tar + ".zst"}) {
    auto bytes = ReadFile(path);
    ASSERT_TRUE(bytes.has_value());
    const std::string whole(bytes->begin(), bytes->end());
    erofs::Tree ok;
    ASSERT_TRUE(ImportBytes(whole, ok).has_value()) << path;
    for (size_t cut : {whole.size() / 2, whole.size() - 4, size_t{20}}) {
      erofs::Tree tree;
      auto r = ImportBytes(whole.substr(0, cut), tree);
      EXPECT_FALSE(r.has_value()) << path << " cut at " << cut;
    }
  }
}

// A store that streams (like the chunking store): reads everything it is promised.
class DiscardStore final : public ContentStore {
 public:
  Result<StoredContent> Ingest(ByteStream& in, uint64_t size, const std::string&) override {
    std::vector<uint8_t> buf(65536);
    for (uint64_t left = size; left > 0;) {
      TRY(size_t n, in.Read(std::span<uint8_t>(buf).first(std::min<uint64_t>(left, buf.size()))));
      if (n == 0) return MakeError(ErrorCode::kOutOfRange, "stream ended early");
      left -= n;
    }
    return StoredContent{};
  }
};

// Sizes past INT64_MAX: libarchive refuses the header itself.
TEST(TarImportHostileTest, OverflowingPaxSizesAreCorrupt) {
  for (const std::string& size :
       std::vector<std::string>{"99999999999999999999", "9223372036854775808",
                                "18446744073709551616", "9223372036854775807"}) {
    TarWriter w;
    w.AddPax({{"size", size}});
    w.AddFile("huge", "only a few bytes");
    erofs::Tree tree;
    ExpectError(ImportBytes(w.Finish(), tree), ErrorCode::kCorrupt,
                {"test.tar", "header at byte 0", "overflow"});
  }
}

// A huge size libarchive accepts: the in-memory store refuses it up front, a streaming store
// reads until the archive ends and gets a truncation error, not a hang or an allocation.
TEST(TarImportHostileTest, HugeDeclaredSizesNeitherAllocateNorHang) {
  for (const std::string& size : std::vector<std::string>{"1099511627776", "1152921504606846975"}) {
    TarWriter w;
    w.AddPax({{"size", size}});
    w.AddFile("huge", std::string(100000, 'h'));
    erofs::Tree tree;
    ExpectError(ImportBytes(w.Finish(), tree), ErrorCode::kTooLarge, {"'huge'", size});

    StringStream stream(w.Finish());
    DiscardStore store;
    erofs::Tree tree2;
    ExpectError(ImportTar(stream, "huge.tar", tree2, store), ErrorCode::kCorrupt,
                {"huge.tar", "'huge'", "header at byte 0", "Truncated"});
  }
}

TEST(TarImportHostileTest, NegativeAndBase256Sizes) {
  TarWriter neg;
  neg.AddPax({{"size", "-1"}});
  neg.AddFile("neg", "x");
  erofs::Tree tree;
  EXPECT_FALSE(ImportBytes(neg.Finish(), tree).has_value());

  // Base-256 size field: 0x80 marker then 11 bytes, value 2^80-ish (clamped by libarchive).
  TarWriter b256;
  Header h = tartest::MakeHeader("b256");
  h.raw_size = std::string("\x80\x7f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12);
  b256.AddHeader(h);
  b256.AddData("data");
  erofs::Tree tree2;
  EXPECT_FALSE(ImportBytes(b256.Finish(), tree2).has_value());
}

TEST(TarImportHostileTest, BadChecksumAndGarbageAreCorrupt) {
  TarWriter w;
  w.AddFile("good", "x");
  Header bad = tartest::MakeHeader("bad", '0', 1);
  bad.bad_checksum = true;
  w.AddHeader(bad);
  w.AddData("y");
  erofs::Tree tree;
  ExpectError(ImportBytes(w.Finish(), tree), ErrorCode::kCorrupt, {"test.tar"});

  erofs::Tree tree2;
  ExpectError(ImportBytes(std::string(4096, '\x5a'), tree2), ErrorCode::kCorrupt,
              {"not a tar archive"});
}

TEST(TarImportHostileTest, UnknownTypeflagsAreRegularFiles) {
  TarWriter w;
  w.AddHeader(tartest::MakeHeader("vendor", 'Z', 5));
  w.AddData("hello");
  w.AddHeader(tartest::MakeHeader("contig", '7', 3));
  w.AddData("abc");
  w.AddFile("after", "still read");
  erofs::Tree tree;
  auto r = ImportBytes(w.Finish(), tree);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(tartest::NodeBytes(tree.node(*tree.Find("vendor"))), "hello");
  EXPECT_EQ(tartest::NodeBytes(tree.node(*tree.Find("contig"))), "abc");
  EXPECT_EQ(tartest::NodeBytes(tree.node(*tree.Find("after"))), "still read");
}

// Many GNU long-name and PAX headers before one entry: libarchive gives up after 32 (with a
// warning and a half-built entry), which must be an error, not an import of that entry.
TEST(TarImportHostileTest, LongNameChains) {
  TarWriter w;
  for (int i = 0; i < 20000; ++i) {
    w.AddGnuLong('L', "chain/" + std::to_string(i));
    w.AddPax({{"path", "pax/" + std::to_string(i)}});
  }
  w.AddFile("short", "end of the chain");
  erofs::Tree tree;
  ExpectError(ImportBytes(w.Finish(), tree), ErrorCode::kCorrupt, {"after 0 entries"});
  EXPECT_TRUE(tree.node(tree.root()).entries.empty());

  TarWriter gnu_only;
  for (int i = 0; i < 40; ++i) gnu_only.AddGnuLong('K', "target/" + std::to_string(i));
  gnu_only.AddFile("f", "x");
  erofs::Tree tree3;
  ExpectError(ImportBytes(gnu_only.Finish(), tree3), ErrorCode::kCorrupt, {"test.tar"});
  EXPECT_TRUE(tree3.node(tree3.root()).entries.empty());

  TarWriter ok;  // a few in a row are fine: the last one wins
  for (int i = 0; i < 4; ++i) ok.AddGnuLong('L', "name/" + std::to_string(i));
  ok.AddFile("short", "x");
  erofs::Tree tree2;
  ASSERT_TRUE(ImportBytes(ok.Finish(), tree2).has_value());
  EXPECT_TRUE(tree2.Find("name/3").has_value());
}

TEST(TarImportHostileTest, MalformedPaxRecordsAreCorrupt) {
  TarWriter w;
  w.AddHeader(tartest::MakeHeader("PaxHeaders/x", 'x', 12));
  w.AddData("11 novalue\n");
  w.AddFile("f", "x");
  erofs::Tree tree;
  EXPECT_FALSE(ImportBytes(w.Finish(), tree).has_value());
}

TEST(TarImportHostileTest, BadHardLinks) {
  TarWriter missing;
  missing.AddHardLink("link", "nowhere");
  erofs::Tree t1;
  ExpectError(ImportBytes(missing.Finish(), t1), ErrorCode::kCorrupt,
              {"'link'", "'nowhere'", "not an earlier entry"});

  TarWriter to_dir;
  to_dir.AddDir("d/");
  to_dir.AddHardLink("link", "d");
  erofs::Tree t2;
  ExpectError(ImportBytes(to_dir.Finish(), t2), ErrorCode::kCorrupt, {"'d'", "is a directory"});

  TarWriter self_missing;
  self_missing.AddHardLink("me", "me");
  erofs::Tree t3;
  ExpectError(ImportBytes(self_missing.Finish(), t3), ErrorCode::kCorrupt, {"'me'"});

  TarWriter to_root;
  to_root.AddHardLink("r", "./");
  erofs::Tree t4;
  ExpectError(ImportBytes(to_root.Finish(), t4), ErrorCode::kCorrupt, {"is a directory"});
}

TEST(TarImportHostileTest, HardLinkCyclesCollapseToOneNode) {
  TarWriter w;
  w.AddFile("a", "content");
  w.AddHardLink("a", "a");  // to itself: no-op
  w.AddHardLink("b", "a");
  w.AddHardLink("a", "b");  // "loop": both already the same node
  w.AddSymlink("s", "a");
  w.AddHardLink("s2", "s");  // hard-linked symlink
  erofs::Tree tree;
  auto r = ImportBytes(w.Finish(), tree);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*tree.Find("a"), *tree.Find("b"));
  EXPECT_EQ(*tree.Find("s"), *tree.Find("s2"));
  EXPECT_EQ(tartest::NodeBytes(tree.node(*tree.Find("b"))), "content");
  EXPECT_EQ(r->hardlinks, 4u);
}

TEST(TarImportHostileTest, Limits) {
  TarWriter w;
  for (int i = 0; i < 4; ++i) w.AddFile("f" + std::to_string(i), "x");
  erofs::Tree t1;
  ExpectError(ImportBytes(w.Finish(), t1, {.max_entries = 3}), ErrorCode::kTooLarge,
              {"more than 3 entries"});

  TarWriter longname;
  longname.AddFile(std::string(60, 'n'), "x");
  erofs::Tree t2;
  ExpectError(ImportBytes(longname.Finish(), t2, {.max_path_length = 50}), ErrorCode::kTooLarge,
              {"name of 60 bytes"});

  TarWriter component;
  component.AddPax({{"path", "dir/" + std::string(256, 'c')}});
  component.AddFile("short", "x");
  erofs::Tree t3;
  ExpectError(ImportBytes(component.Finish(), t3), ErrorCode::kUnsupported, {"256 bytes"});

  TarWriter big_store;
  big_store.AddFile("big", std::string(4096, 'x'));
  StringStream stream(big_store.Finish());
  MemoryContentStore store(1000);
  erofs::Tree t4;
  ExpectError(ImportTar(stream, "s.tar", t4, store), ErrorCode::kTooLarge, {"'big'"});
}

TEST(TarImportHostileTest, StreamErrorsPropagateWithTheirMessage) {
  const std::string full = ArchiveWithData();
  for (uint64_t at : {uint64_t{0}, uint64_t{600}, uint64_t{5000}}) {
    StringStream stream(full, 1 << 20, at);
    MemoryContentStore store;
    erofs::Tree tree;
    auto r = ImportTar(stream, "flaky.tar", tree, store);
    ExpectError(r, ErrorCode::kIo, {"flaky.tar", "injected failure at byte"});
  }
}

TEST(TarImportHostileTest, SmallReadsAndEmptyArchives) {
  erofs::Tree tree;
  auto r = ImportBytes(ArchiveWithData(), tree, {}, 1);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(tree.node(*tree.Find("dir/big")).size, 10000u);

  erofs::Tree empty;
  auto e = ImportBytes(TarWriter().Finish(), empty);
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_EQ(e->entries, 0u);
  EXPECT_TRUE(empty.node(empty.root()).entries.empty());

  erofs::Tree none;
  EXPECT_FALSE(ImportBytes("", none).has_value());
}

}  // namespace
}  // namespace tessera::builder
