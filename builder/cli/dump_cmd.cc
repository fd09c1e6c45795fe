// `tessera-image dump`: validates an EROFS image and prints what it holds.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "dump_model.h"
#include "dump_options.h"
#include <nlohmann/json.hpp>

#include "tessera/common/io.h"
#include "tessera/erofs/reader.h"

namespace tessera::builder::cli {
namespace {

using json = nlohmann::ordered_json;

struct Devices {
  std::vector<std::unique_ptr<FileSource>> files;
  std::vector<const ByteSource*> views;
};

Result<Devices> OpenDevices(const DumpOptions& options, const erofs::Reader& reader) {
  Devices devices;
  if (!options.devices.empty() && options.devices.size() != reader.devices().size()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "image has " + std::to_string(reader.devices().size()) +
                         " extra devices but " + std::to_string(options.devices.size()) +
                         " --device given");
  }
  for (const std::string& path : options.devices) {
    TRY(auto file, FileSource::Open(path));
    devices.views.push_back(file.get());
    devices.files.push_back(std::move(file));
  }
  return devices;
}

// Fills doc["entries"]; on error the entries found so far stay in the document.
Status AddEntries(const erofs::Reader& reader, const DumpOptions& options,
                  std::span<const ByteSource* const> devices, json& doc) {
  doc["entries"] = json::array();
  if (options.path) {
    TRY(const uint64_t nid, reader.ResolvePath(*options.path));
    TRY(const erofs::InodeInfo inode, reader.GetInode(nid));
    TRY(json entry, EntryJson(reader, *options.path, inode, /*detail=*/true, devices));
    doc["entries"].push_back(std::move(entry));
    return Ok();
  }
  return reader.Walk([&](const std::string& path, const erofs::DirEntry&,
                         const erofs::InodeInfo& inode) -> Status {
    auto entry = EntryJson(reader, path, inode, /*detail=*/false, devices);
    if (!entry) return std::move(entry).error().Wrap(path);
    doc["entries"].push_back(std::move(*entry));
    return Ok();
  });
}

void Print(const json& doc, bool as_json) {
  const std::string text =
      as_json ? doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n" : RenderText(doc);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int Fail(const Error& error) {
  std::fprintf(stderr, "tessera-image dump: %s\n", error.ToString().c_str());
  return 1;
}

}  // namespace

int RunDump(int argc, char** argv) {
  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  auto options = ParseDumpOptions(args);
  if (!options) {
    std::fprintf(stderr,
                 "tessera-image dump: %s\nusage: tessera-image dump [--help] [--json] "
                 "[--device PATH]... IMAGE [PATH]\n",
                 options.error().context.c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(DumpUsage(), stdout);
    return 0;
  }
  auto reader = erofs::Reader::Open(options->image);
  if (!reader) return Fail(reader.error());  // the error names the image
  auto devices = OpenDevices(*options, *reader);
  if (!devices) return Fail(devices.error().Wrap(options->image));
  json doc;
  doc["image"] = options->image;
  doc["superblock"] = SuperBlockJson(*reader);
  doc["devices"] = DevicesJson(*reader, devices->views);
  Status status = AddEntries(*reader, *options, devices->views, doc);
  if (!status) {
    if (!options->json) Print(doc, false);  // show what was readable before the error
    return Fail(status.error().Wrap(options->image));
  }
  Print(doc, options->json);
  return 0;
}

}  // namespace tessera::builder::cli
