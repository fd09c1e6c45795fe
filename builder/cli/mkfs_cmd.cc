// `tessera-image mkfs`: directory → plain EROFS image. Parsing lives in mkfs_options.cc; this
// file wires the walker and the writer and reports the outcome.
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>

#include "cli_util.h"
#include "commands.h"
#include "mkfs_options.h"
#include <nlohmann/json.hpp>

#include "tessera/builder/dir_loader.h"
#include "tessera/common/io.h"
#include "tessera/common/process.h"
#include "tessera/erofs/format.h"
#include "tessera/erofs/writer.h"

namespace tessera::builder::cli {
namespace {

struct MkfsOutcome {
  erofs::WriteStats write;
  DirLoadStats load;
  double seconds = 0;
};

Result<int64_t> BuildTime(const MkfsOptions& opts) {
  if (opts.timestamp) return *opts.timestamp;
  if (const char* env = std::getenv("SOURCE_DATE_EPOCH"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long long v = std::strtoll(env, &end, 10);
    if (*end != '\0') {
      return MakeError(ErrorCode::kInvalidArgument,
                       "SOURCE_DATE_EPOCH: '" + std::string(env) + "' is not a number");
    }
    return static_cast<int64_t>(v);
  }
  return static_cast<int64_t>(std::time(nullptr));
}

Result<std::array<uint8_t, 16>> VolumeUuid(const MkfsOptions& opts) {
  if (opts.uuid) return *opts.uuid;
  std::array<uint8_t, 16> uuid{};
  if (::getrandom(uuid.data(), uuid.size(), 0) != static_cast<ssize_t>(uuid.size())) {
    return ErrnoError(errno, "getrandom for the volume UUID");
  }
  uuid[6] = static_cast<uint8_t>((uuid[6] & 0x0F) | 0x40);  // version 4
  uuid[8] = static_cast<uint8_t>((uuid[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return uuid;
}

Result<erofs::WriteStats> WriteToFile(const erofs::Tree& tree, const erofs::WriterOptions& wo,
                                      const std::string& image) {
  const std::string tmp = image + ".tmp";
  ScopeExit remove_tmp([&tmp] { ::unlink(tmp.c_str()); });
  erofs::WriteStats stats;
  {
    TRY(std::unique_ptr<FileSink> sink, FileSink::Create(tmp, 0644));
    TRY(stats, erofs::WriteImage(tree, wo, *sink));
    RETURN_IF_ERROR(sink->Sync());
  }
  if (::rename(tmp.c_str(), image.c_str()) != 0) {
    return ErrnoError(errno, "rename " + tmp + " to " + image);
  }
  remove_tmp.Dismiss();
  return stats;
}

Result<MkfsOutcome> Mkfs(const MkfsOptions& opts) {
  const auto start = std::chrono::steady_clock::now();
  MkfsOutcome out;
  erofs::WriterOptions wo;
  TRY(wo.build_time, BuildTime(opts));
  TRY(wo.uuid, VolumeUuid(opts));
  wo.volume_name = opts.label;
  DirLoadOptions lo;
  lo.skip_unsupported_xattrs = opts.skip_unsupported_xattrs;
  TRY(erofs::Tree tree, LoadDirectory(opts.source, lo, &out.load));
  TRY(out.write, WriteToFile(tree, wo, opts.image));
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

void PrintSummary(const MkfsOptions& opts, const MkfsOutcome& o) {
  if (opts.json) {
    nlohmann::json j = {
        {"image", opts.image},
        {"source", opts.source},
        {"inodes", o.write.inodes},
        {"size", o.write.image_size},
        {"blocks", o.write.image_size / erofs::kBlockSize},
        {"data_bytes", o.write.data_bytes},
        {"root_nid", o.write.root_nid},
        {"hardlinks", o.load.hardlinks},
        {"skipped_xattrs", o.load.skipped_xattrs},
        {"seconds", o.seconds},
    };
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s: %llu inodes, %s (%llu blocks), %s of file data, %.2fs\n", opts.image.c_str(),
              static_cast<unsigned long long>(o.write.inodes),
              HumanBytes(o.write.image_size).c_str(),
              static_cast<unsigned long long>(o.write.image_size / erofs::kBlockSize),
              HumanBytes(o.write.data_bytes).c_str(), o.seconds);
  if (o.load.skipped_xattrs > 0) {
    std::printf("skipped %llu unsupported xattrs\n",
                static_cast<unsigned long long>(o.load.skipped_xattrs));
  }
}

}  // namespace

int RunMkfs(int argc, char** argv) {
  Result<MkfsOptions> opts = ParseMkfsOptions(argc, argv);
  if (!opts) {
    std::fprintf(stderr, "tessera-image mkfs: %s\nRun 'tessera-image mkfs --help' for usage.\n",
                 opts.error().context.c_str());
    return 2;
  }
  if (opts->help) {
    std::fwrite(MkfsUsage().data(), 1, MkfsUsage().size(), stdout);
    return 0;
  }
  Result<MkfsOutcome> outcome = Mkfs(*opts);
  if (!outcome) return Fail("mkfs", outcome.error());
  PrintSummary(*opts, *outcome);
  return 0;
}

}  // namespace tessera::builder::cli
