#include "tessera/common/io.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "tessera/common/process.h"

namespace tessera {
namespace {

TEST(IoTest, FileSinkAndSourceRoundTrip) {
  auto dir = TempDir::Create("io_test");
  ASSERT_TRUE(dir) << dir.error().ToString();
  std::string path = dir->path() + "/f";
  std::vector<uint8_t> big(3 << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7 + (i >> 12));
  {
    auto sink = FileSink::Create(path);
    ASSERT_TRUE(sink);
    ASSERT_TRUE((*sink)->Write(std::span<const uint8_t>(big).first(10)));
    ASSERT_TRUE((*sink)->WriteZeros(5000));
    ASSERT_TRUE((*sink)->Write(big));
    EXPECT_EQ((*sink)->Position(), 10 + 5000 + big.size());
    ASSERT_TRUE((*sink)->Sync());
  }
  auto src = FileSource::Open(path);
  ASSERT_TRUE(src);
  ASSERT_EQ((*src)->Size(), 10 + 5000 + big.size());
  std::vector<uint8_t> got(big.size());
  ASSERT_TRUE((*src)->ReadAt(5010, got));
  EXPECT_EQ(got, big);
  std::vector<uint8_t> zeros(5000);
  ASSERT_TRUE((*src)->ReadAt(10, zeros));
  EXPECT_EQ(zeros, std::vector<uint8_t>(5000, 0));
  std::vector<uint8_t> past(2);
  Status st = (*src)->ReadAt((*src)->Size() - 1, past);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kOutOfRange);
}

TEST(IoTest, MappedRegionMapsWholeFile) {
  auto dir = TempDir::Create("io_test");
  ASSERT_TRUE(dir);
  std::vector<uint8_t> data = {1, 2, 3, 4, 5};
  ASSERT_TRUE(WriteFile(dir->path() + "/m", data));
  auto region = MappedRegion::MapFile(dir->path() + "/m");
  ASSERT_TRUE(region);
  ASSERT_EQ(region->size(), 5u);
  EXPECT_EQ(region->bytes()[4], 5);
  auto missing = MappedRegion::MapFile(dir->path() + "/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().context.find("/nope"), std::string::npos);
}

TEST(IoTest, MemorySourceBounds) {
  MemorySource src(std::vector<uint8_t>{9, 8, 7});
  std::vector<uint8_t> out(2);
  ASSERT_TRUE(src.ReadAt(1, out));
  EXPECT_EQ(out, (std::vector<uint8_t>{8, 7}));
  EXPECT_FALSE(src.ReadAt(2, out));
  EXPECT_FALSE(src.ReadAt(UINT64_MAX, out));
}

TEST(IoTest, UniqueFdClosesOnDestruction) {
  int raw;
  {
    auto fd = UniqueFd::Open("/dev/null", O_RDONLY);
    ASSERT_TRUE(fd);
    raw = fd->get();
    EXPECT_GE(fcntl(raw, F_GETFD), 0);
  }
  EXPECT_EQ(fcntl(raw, F_GETFD), -1);
}

}  // namespace
}  // namespace tessera
