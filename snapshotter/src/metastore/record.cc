#include "metastore/record.h"

#include <nlohmann/json.hpp>

namespace tessera::snapshotter::internal {
namespace {

Result<Kind> KindFromName(std::string_view name) {
  for (Kind k : {Kind::kView, Kind::kActive, Kind::kCommitted}) {
    if (KindName(k) == name) return k;
  }
  return MakeError(ErrorCode::kCorrupt, "unknown kind \"" + std::string(name) + "\"");
}

}  // namespace

std::string EncodeRecord(const Record& record) {
  nlohmann::json j = {
      {"id", record.id},
      {"kind", KindName(record.info.kind)},
      {"parent", record.info.parent},
      {"labels", record.info.labels},
      {"created", record.info.created_ns},
      {"updated", record.info.updated_ns},
      {"size", record.usage.size},
      {"inodes", record.usage.inodes},
  };
  if (!record.remote_dir.empty()) j["remote_dir"] = record.remote_dir;
  return j.dump();
}

Result<Record> DecodeRecord(std::string_view name, std::string_view value) {
  auto corrupt = [&](const std::string& what) {
    return MakeError(ErrorCode::kCorrupt, "snapshot record \"" + std::string(name) + "\": " + what);
  };
  nlohmann::json j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return corrupt("not a JSON object");
  Record r;
  r.info.name = std::string(name);
  try {
    r.id = j.at("id").get<uint64_t>();
    auto kind = KindFromName(j.at("kind").get<std::string>());
    if (!kind) return corrupt(kind.error().context);
    r.info.kind = *kind;
    r.info.parent = j.at("parent").get<std::string>();
    r.info.labels = j.at("labels").get<Labels>();
    r.info.created_ns = j.at("created").get<int64_t>();
    r.info.updated_ns = j.at("updated").get<int64_t>();
    r.usage.size = j.at("size").get<int64_t>();
    r.usage.inodes = j.at("inodes").get<int64_t>();
    if (j.contains("remote_dir")) r.remote_dir = j.at("remote_dir").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return corrupt(e.what());
  }
  if (r.id == 0) return corrupt("id 0");
  return r;
}

}  // namespace tessera::snapshotter::internal
