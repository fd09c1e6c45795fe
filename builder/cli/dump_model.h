// What `tessera-image dump` reports, as one JSON document: the --json output as is, and the
// input of the text renderer (so both forms always show the same facts).
//
// Thread-safety: reentrant functions over a const Reader.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "tessera/common/io.h"
#include "tessera/common/result.h"
#include "tessera/erofs/reader.h"

namespace tessera::builder::cli {

// Superblock fields, features decoded to names.
nlohmann::ordered_json SuperBlockJson(const erofs::Reader& reader);

// The device table; `provided` holds the --device files (may be fewer than the slots).
nlohmann::ordered_json DevicesJson(const erofs::Reader& reader,
                                   std::span<const ByteSource* const> provided);

// One entry. With `detail`, also its xattrs, full chunk map and the SHA-256 of its data (or
// why the data could not be read). Errors come from the image (corrupt xattrs, chunk map).
Result<nlohmann::ordered_json> EntryJson(const erofs::Reader& reader, const std::string& path,
                                         const erofs::InodeInfo& inode, bool detail,
                                         std::span<const ByteSource* const> devices);

// The text form of a document built from the functions above.
std::string RenderText(const nlohmann::ordered_json& doc);

}  // namespace tessera::builder::cli
