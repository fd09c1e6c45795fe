#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "gzip.h"

#include "tessera/common/io.h"
#include "tessera/common/process.h"
#include "tessera/oci/image.h"

namespace tessera::oci {
namespace {

std::vector<uint8_t> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

// One ustar header block (checksum filled in) for hand-made hostile archives.
std::vector<uint8_t> Header(const std::string& name, const std::string& size_octal,
                            char type = '0') {
  std::vector<uint8_t> h(512, 0);
  std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
  std::memcpy(h.data() + 100, "0000644", 7);
  std::memcpy(h.data() + 124, size_octal.data(), std::min<size_t>(size_octal.size(), 12));
  h[156] = static_cast<uint8_t>(type);
  std::memcpy(h.data() + 257, "ustar", 6);
  std::memcpy(h.data() + 263, "00", 2);
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (uint8_t b : h) sum += b;
  snprintf(reinterpret_cast<char*>(h.data() + 148), 8, "%06o", sum);
  return h;
}

void Append(std::vector<uint8_t>& out, const std::vector<uint8_t>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

TEST(BootstrapLayerTest, PackIsDeterministicAndRoundTrips) {
  auto boot = Random(70000, 1);
  std::string diff1, diff2;
  auto a = PackBootstrapLayer(boot, &diff1);
  auto b = PackBootstrapLayer(boot, &diff2);
  EXPECT_EQ(a, b);
  EXPECT_EQ(diff1, diff2);
  ASSERT_TRUE(internal::IsGzip(a));
  auto tar = internal::GzipDecompress(a, 1 << 20);
  ASSERT_TRUE(tar.has_value());
  EXPECT_EQ(DigestOf(*tar), diff1);
  EXPECT_EQ(tar->size() % 512, 0u);
  auto back = UnpackBootstrapLayer(a);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(*back, boot);
  auto plain = UnpackBootstrapLayer(*tar);  // an uncompressed tar works too
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(*plain, boot);
  auto empty = UnpackBootstrapLayer(PackBootstrapLayer({}, nullptr));
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(BootstrapLayerTest, GnuTarReadsOursAndWeReadGnuTars) {
  auto dir = TempDir::Create("bootstrap-layer-test");
  ASSERT_TRUE(dir.has_value());
  auto boot = Random(5000, 2);
  ASSERT_TRUE(WriteFile(dir->path() + "/ours.tgz", PackBootstrapLayer(boot, nullptr)).has_value());
  auto listing = RunCommand({"tar", "-tvzf", dir->path() + "/ours.tgz"});
  ASSERT_TRUE(listing.has_value());
  EXPECT_EQ(listing->exit_code, 0);
  EXPECT_NE(listing->out.find("tessera/bootstrap"), std::string::npos) << listing->out;
  EXPECT_NE(listing->out.find("-rw-r--r--"), std::string::npos) << listing->out;
  EXPECT_NE(listing->out.find("1970-01-01"), std::string::npos) << listing->out;

  ASSERT_TRUE(RunCommand({"mkdir", "-p", dir->path() + "/src/tessera/other"}).has_value());
  ASSERT_TRUE(WriteFile(dir->path() + "/src/tessera/bootstrap", boot).has_value());
  ASSERT_TRUE(WriteFile(dir->path() + "/src/tessera/other/x", Random(10, 3)).has_value());
  for (const char* format : {"pax", "gnu", "ustar"}) {
    std::string out = dir->path() + "/gnu-" + format + ".tar.gz";
    auto made =
        RunCommand({"tar", "--format", format, "-czf", out, "-C", dir->path() + "/src", "."});
    ASSERT_TRUE(made.has_value() && made->exit_code == 0) << format;
    auto bytes = ReadFile(out);
    ASSERT_TRUE(bytes.has_value());
    auto got = UnpackBootstrapLayer(*bytes);
    ASSERT_TRUE(got.has_value()) << format << ": " << got.error().ToString();
    EXPECT_EQ(*got, boot) << format;
  }
}

TEST(BootstrapLayerTest, RejectsHostileTars) {
  std::vector<uint8_t> zeros(1024, 0);
  std::vector<std::pair<std::string, std::vector<uint8_t>>> cases;
  cases.push_back({"empty", {}});
  cases.push_back({"only end marker", zeros});
  auto huge = Header("tessera/bootstrap", "77777777777");
  Append(huge, zeros);
  cases.push_back({"size past end", huge});
  auto bad_octal = Header("tessera/bootstrap", "12x4");
  Append(bad_octal, zeros);
  cases.push_back({"bad octal", bad_octal});
  auto bad_sum = Header("tessera/bootstrap", "00000000001");
  bad_sum[0] ^= 1;
  Append(bad_sum, zeros);
  cases.push_back({"bad checksum", bad_sum});
  auto b256 = Header("tessera/bootstrap", "");
  std::memset(b256.data() + 124, 0xff, 12);  // base-256 negative / huge
  cases.push_back({"base-256 huge", b256});
  auto pax = Header("pax", "00000000020", 'x');
  std::string rec = "99999999999 path=tessera/bootstrap\n";
  pax.insert(pax.end(), rec.begin(), rec.begin() + 16);
  pax.resize(1024, 0);
  Append(pax, Header("x", "00000000000"));
  Append(pax, zeros);
  cases.push_back({"pax length overflow", pax});
  auto truncated = Header("tessera/bootstrap", "00000001000");
  truncated.resize(600);
  cases.push_back({"truncated data", truncated});
  auto no_end = Header("tessera/other", "00000000000");
  cases.push_back({"no end marker", no_end});
  auto other = Header("tessera/other", "00000000000");
  Append(other, zeros);
  cases.push_back({"no bootstrap", other});
  auto dir_entry = Header("tessera/bootstrap", "00000000000", '5');
  Append(dir_entry, zeros);
  cases.push_back({"bootstrap is a directory", dir_entry});
  auto gz = PackBootstrapLayer(Random(3000, 4), nullptr);
  cases.push_back({"truncated gzip", std::vector<uint8_t>(gz.begin(), gz.begin() + gz.size() / 2)});
  auto trailing = gz;
  Append(trailing, {1, 2, 3});
  cases.push_back({"gzip trailing junk", trailing});
  cases.push_back({"gzip magic only", {0x1f, 0x8b}});
  for (const auto& [name, bytes] : cases) {
    auto r = UnpackBootstrapLayer(bytes);
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt) << name << ": " << r.error().ToString();
  }
}

TEST(BootstrapLayerTest, MutatedLayersNeverCrash) {
  auto layer = PackBootstrapLayer(Random(2000, 5), nullptr);
  auto tar = *internal::GzipDecompress(layer, 1 << 20);
  std::mt19937 rng(6);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    auto m = (i % 2) ? layer : tar;
    for (int k = 0; k < 4; ++k) m[rng() % m.size()] = static_cast<uint8_t>(rng());
    if (rng() % 4 == 0) m.resize(rng() % m.size());
    auto r = UnpackBootstrapLayer(m);
    if (r.has_value()) ++accepted;
  }
  EXPECT_LT(accepted, 3000);  // mutations of the header are caught
}

TEST(GzipTest, BoundsDecompressedSize) {
  std::vector<uint8_t> zeros(1 << 20, 0);
  auto gz = internal::GzipCompress(zeros);
  EXPECT_LT(gz.size(), 10000u);
  auto bounded = internal::GzipDecompress(gz, 1000);
  ASSERT_FALSE(bounded.has_value());
  EXPECT_EQ(bounded.error().code, ErrorCode::kTooLarge);
  auto twice = gz;
  Append(twice, gz);  // concatenated members
  auto both = internal::GzipDecompress(twice, 4 << 20);
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(both->size(), 2u << 20);
}

}  // namespace
}  // namespace tessera::oci
