#include "tessera/common/codec.h"

#include <gtest/gtest.h>

#include "tessera/common/digest.h"

namespace tessera {
namespace {

std::vector<uint8_t> Sample(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>((i / 17) % 251);
  return v;
}

class CodecTest : public ::testing::TestWithParam<Codec> {};

TEST_P(CodecTest, RoundTrip) {
  for (size_t n : {0ul, 1ul, 4096ul, 1ul << 20}) {
    auto input = Sample(n);
    auto packed = Compress(GetParam(), input, GetParam() == Codec::kZstd ? 3 : 0);
    ASSERT_TRUE(packed) << packed.error().ToString();
    if (GetParam() != Codec::kNone && n >= 4096) {
      EXPECT_LT(packed->size(), n / 4);
    }
    std::vector<uint8_t> out(n);
    ASSERT_TRUE(Decompress(GetParam(), *packed, out));
    EXPECT_EQ(out, input);
  }
}

TEST_P(CodecTest, WrongSizeOrGarbageIsCorrupt) {
  auto input = Sample(10000);
  auto packed = Compress(GetParam(), input, 1);
  ASSERT_TRUE(packed);
  std::vector<uint8_t> small(9999);
  Status st = Decompress(GetParam(), *packed, small);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kCorrupt);
  std::vector<uint8_t> garbage(100, 0xAB);
  std::vector<uint8_t> out(10000);
  EXPECT_FALSE(Decompress(GetParam(), garbage, out));
}

INSTANTIATE_TEST_SUITE_P(All, CodecTest, ::testing::Values(Codec::kNone, Codec::kZstd, Codec::kLz4),
                         [](const auto& info) { return std::string(CodecName(info.param)); });

TEST(CodecNameTest, Parse) {
  EXPECT_EQ(*ParseCodec("lz4"), Codec::kLz4);
  EXPECT_FALSE(ParseCodec("gzip"));
}

TEST(DigestTest, KnownVectors) {
  const std::string abc = "abc";
  auto d = Sha256Of({reinterpret_cast<const uint8_t*>(abc.data()), abc.size()});
  EXPECT_EQ(ToHex(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 inc;
  inc.Update({reinterpret_cast<const uint8_t*>(abc.data()), 1});
  inc.Update({reinterpret_cast<const uint8_t*>(abc.data()) + 1, 2});
  EXPECT_EQ(inc.Finish(), d);
  auto parsed = Sha256FromHex(ToHex(d));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, d);
  EXPECT_FALSE(Sha256FromHex("xyz"));
  EXPECT_FALSE(Sha256FromHex(std::string(64, 'g')));
}

TEST(DigestTest, Crc32cStandardCheckValue) {
  // CRC-32C of "123456789" with init ~0 and final xor ~0 is 0xE3069283.
  const std::string s = "123456789";
  uint32_t crc = Crc32c(0xFFFFFFFF, {reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  EXPECT_EQ(crc ^ 0xFFFFFFFF, 0xE3069283u);
}

}  // namespace
}  // namespace tessera
