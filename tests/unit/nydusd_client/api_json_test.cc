// The API's JSON shapes (nydusd/client/src/api_json.cc): round trips, tolerance of unknown
// fields, and errors that name the offending field.
#include <gtest/gtest.h>

#include "tessera/nydusd_client/api.h"

namespace tessera::nydusd::client {
namespace {

MountInfo SampleMount() {
  MountInfo m;
  m.mountpoint = "/mnt/a";
  m.bootstrap = "/images/a/bootstrap";
  m.blob_dir = "/images/a/blobs";
  m.cache_dir = "/var/cache/tessera";
  m.mounted_at = 1700000100;
  m.chunks_ready = 12;
  m.chunks_total = 40;
  return m;
}

TEST(ApiJsonTest, DaemonInfoRoundTrips) {
  DaemonInfo info;
  info.version = "0.1.0";
  info.state = "running";
  info.pid = 77;
  info.apisock = "/run/tesserad/api.sock";
  info.started_at = 1700000000;
  info.uptime_seconds = 42;
  info.mounts = {SampleMount(), SampleMount()};
  info.mounts[1].mountpoint = "/mnt/b";
  info.mounts[1].fully_cached = true;
  info.config = {"localfs", "/var/cache/tessera", 1ull << 40, 8, true, false};
  for (int indent : {-1, 2}) {
    auto decoded = DecodeDaemonInfo(EncodeDaemonInfo(info, indent));
    ASSERT_TRUE(decoded) << decoded.error().ToString();
    EXPECT_EQ(*decoded, info);
  }
}

TEST(ApiJsonTest, DocumentedExampleDecodes) {
  // The GET /api/v1/daemon example of docs/api.md, plus a field this client does not know.
  auto info = DecodeDaemonInfo(R"({
    "version": "0.1.0", "state": "running", "pid": 4242,
    "apisock": "/run/tesserad/api.sock", "started_at": 1700000000, "uptime_seconds": 93784,
    "mounts": [{"mountpoint": "/run/tessera/mnt/img1", "bootstrap": "/var/lib/img1/bootstrap",
                "blob_dir": "/var/lib/img1/blobs", "cache_dir": "/var/cache/tessera",
                "transport": "fuse", "mounted_at": 1700000100, "chunks_ready": 120,
                "chunks_total": 480, "fully_cached": false}],
    "config": {"backend": "localfs", "cache_dir": "/var/cache/tessera",
               "cache_limit_bytes": 10737418240, "threads": 4, "prefetch": true,
               "validate_digests": true},
    "future_field": {"anything": [1, 2]}})");
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->mounts.size(), 1u);
  EXPECT_EQ(info->mounts[0].chunks_total, 480u);
  EXPECT_EQ(info->config.cache_limit_bytes, 10737418240u);
}

TEST(ApiJsonTest, MinimalDaemonInfoUsesDefaults) {
  auto info = DecodeDaemonInfo(R"({"version": "0.1.0", "state": "starting", "mounts": []})");
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->state, "starting");
  EXPECT_EQ(info->pid, 0);
  EXPECT_TRUE(info->config.validate_digests);
}

TEST(ApiJsonTest, BadResponsesNameTheField) {
  auto expect_corrupt = [](std::string_view json, std::string_view field) {
    auto r = DecodeDaemonInfo(json);
    ASSERT_FALSE(r) << json;
    EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
    EXPECT_NE(r.error().context.find(field), std::string::npos) << r.error().ToString();
  };
  expect_corrupt("not json", "invalid JSON");
  expect_corrupt("[1]", "not a JSON object");
  expect_corrupt(R"({"state": "running", "mounts": []})", "'version': missing");
  expect_corrupt(R"({"version": 1, "state": "x", "mounts": []})", "'version': wrong type");
  expect_corrupt(R"({"version": "v", "state": "x"})", "'mounts'");
  expect_corrupt(R"({"version": "v", "state": "x", "mounts": [{"mountpoint": "/m"}]})",
                 "mounts[0].bootstrap");
  expect_corrupt(R"({"version": "v", "state": "x", "mounts": [],
                     "uptime_seconds": -1})",
                 "uptime_seconds");
  expect_corrupt(R"({"version": "v", "state": "x", "mounts": [], "config": {"threads": 1e3}})",
                 "config.threads");
  expect_corrupt("{\"version\": \"\xff\", \"state\": \"x\", \"mounts\": []}", "invalid JSON");
}

TEST(ApiJsonTest, MountListAndMountRoundTrip) {
  std::vector<MountInfo> mounts = {SampleMount()};
  auto list = DecodeMountList(EncodeMountList(mounts));
  ASSERT_TRUE(list) << list.error().ToString();
  EXPECT_EQ(*list, mounts);
  auto empty = DecodeMountList(EncodeMountList({}));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(EncodeMountList({}), R"({"mounts":[]})");
  auto one = DecodeMountInfo(EncodeMountInfo(SampleMount()));
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, SampleMount());
}

TEST(ApiJsonTest, MountRequestRoundTripsAndOmitsDefaults) {
  MountRequest r{"/mnt/a", "/b/boot", "/b/blobs", "", {}, false};
  EXPECT_EQ(EncodeMountRequest(r),
            R"({"blob_dir":"/b/blobs","bootstrap":"/b/boot","mountpoint":"/mnt/a"})");
  r.cache_dir = "/c";
  r.prefetch_files = {"/usr/bin/sh", "/etc/passwd"};
  r.prefetch_all = true;
  auto decoded = DecodeMountRequest(EncodeMountRequest(r));
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(*decoded, r);
}

TEST(ApiJsonTest, MountRequestValidation) {
  auto expect_invalid = [](std::string_view json, std::string_view what) {
    auto r = DecodeMountRequest(json);
    ASSERT_FALSE(r) << json;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().context.find(what), std::string::npos) << r.error().ToString();
  };
  expect_invalid(R"({"bootstrap": "/b", "blob_dir": "/d"})", "'mountpoint': missing");
  expect_invalid(R"({"mountpoint": "mnt", "bootstrap": "/b", "blob_dir": "/d"})",
                 "'mountpoint': must be an absolute path");
  expect_invalid(R"({"mountpoint": "", "bootstrap": "/b", "blob_dir": "/d"})", "must not be empty");
  expect_invalid(R"({"mountpoint": "/m\u0000x", "bootstrap": "/b", "blob_dir": "/d"})", "NUL");
  expect_invalid(R"({"mountpoint": "/m", "bootstrap": "/b", "blob_dir": "/d", "cache_dir": "c"})",
                 "'cache_dir'");
  expect_invalid(R"({"mountpoint": "/m", "bootstrap": "/b", "blob_dir": "/d",
                     "prefetch_files": ["/ok", "rel"]})",
                 "prefetch_files[1]");
  expect_invalid(R"({"mountpoint": "/m", "bootstrap": "/b", "blob_dir": "/d",
                     "prefetch_all": "yes"})",
                 "'prefetch_all': wrong type");
  expect_invalid("{", "invalid JSON");
}

TEST(ApiJsonTest, InvalidUtf8IsReplacedNotThrown) {
  MountInfo m = SampleMount();
  m.mountpoint = "/mnt/\xff";
  auto decoded = DecodeMountInfo(EncodeMountInfo(m));
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(decoded->mountpoint, "/mnt/\xef\xbf\xbd");
}

TEST(ApiJsonTest, ErrorResponsesDecode) {
  Error e = DecodeErrorResponse(
      ErrorResponse(MakeError(ErrorCode::kAlreadyExists, "mountpoint /mnt/a is already served")),
      "tesserad: POST /api/v1/mounts");
  EXPECT_EQ(e.code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(e.context,
            "tesserad: POST /api/v1/mounts: already exists: mountpoint /mnt/a is already served");

  Error unknown_code =
      DecodeErrorResponse(HttpResponse::JsonError(405, "method_not_allowed", "no"), "x");
  EXPECT_EQ(unknown_code.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(unknown_code.context, "x: no");

  Error plain = DecodeErrorResponse(HttpResponse::Text(502, "bad gateway\n"), "x");
  EXPECT_EQ(plain.code, ErrorCode::kInternal);
  EXPECT_EQ(plain.context, "x: HTTP 502 Bad Gateway: bad gateway");
  Error not_found = DecodeErrorResponse(HttpResponse::Text(404, ""), "x");
  EXPECT_EQ(not_found.code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tessera::nydusd::client
