#include "metastore/metastore.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <charconv>

namespace tessera::snapshotter::internal {
namespace {

constexpr char kSnapshotPrefix[] = "s/";
constexpr char kChildPrefix[] = "c/";
constexpr char kNextIdKey[] = "m/next_id";
constexpr size_t kMaxLabelBytes = 4096;

std::string SnapshotKey(const std::string& name) { return kSnapshotPrefix + name; }
std::string ChildrenPrefix(const std::string& parent) {
  return kChildPrefix + parent + std::string(1, '\0');
}
std::string ChildKey(const std::string& parent, const std::string& child) {
  return ChildrenPrefix(parent) + child;
}

Error DbError(const rocksdb::Status& s, const std::string& what) {
  return MakeError(s.IsCorruption() ? ErrorCode::kCorrupt : ErrorCode::kIo,
                   "metadata " + what + ": " + s.ToString());
}

Status WriteSynced(rocksdb::DB* db, rocksdb::WriteBatch* batch, const std::string& what) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db->Write(wo, batch);
  if (!s.ok()) return DbError(s, what);
  return Ok();
}

}  // namespace

Status ValidateName(const std::string& name) {
  if (name.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty snapshot key");
  if (name.find('\0') != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "snapshot key contains NUL");
  }
  return Ok();
}

Status ValidateLabels(const Labels& labels) {
  for (const auto& [k, v] : labels) {
    if (k.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty label key");
    if (k.size() + v.size() > kMaxLabelBytes) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "label \"" + k.substr(0, 64) + "\": key and value exceed 4096 bytes");
    }
  }
  return Ok();
}

MetaStore::MetaStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}
MetaStore::~MetaStore() = default;

Result<std::unique_ptr<MetaStore>> MetaStore::Open(const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.keep_log_file_num = 2;
  options.max_manifest_file_size = 4 << 20;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return DbError(s, "open " + dir);
  return std::unique_ptr<MetaStore>(new MetaStore(std::unique_ptr<rocksdb::DB>(raw)));
}

Result<Record> MetaStore::Get(const std::string& name) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), SnapshotKey(name), &value);
  if (s.IsNotFound()) return MakeError(ErrorCode::kNotFound, "snapshot \"" + name + "\"");
  if (!s.ok()) return DbError(s, "get \"" + name + "\"");
  return DecodeRecord(name, value);
}

Result<std::vector<Record>> MetaStore::List() const {
  std::vector<Record> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(kSnapshotPrefix); it->Valid() && it->key().starts_with(kSnapshotPrefix);
       it->Next()) {
    std::string_view key = it->key().ToStringView().substr(sizeof(kSnapshotPrefix) - 1);
    TRY(Record r, DecodeRecord(key, it->value().ToStringView()));
    out.push_back(std::move(r));
  }
  if (!it->status().ok()) return DbError(it->status(), "list");
  return out;
}

Result<std::vector<std::string>> MetaStore::Children(const std::string& name) const {
  std::vector<std::string> out;
  const std::string prefix = ChildrenPrefix(name);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    out.push_back(it->key().ToString().substr(prefix.size()));
  }
  if (!it->status().ok()) return DbError(it->status(), "children of \"" + name + "\"");
  return out;
}

Result<bool> MetaStore::HasChildren(const std::string& name) const {
  TRY(std::vector<std::string> children, Children(name));
  return !children.empty();
}

Result<uint64_t> MetaStore::NextId() const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kNextIdKey, &value);
  if (s.IsNotFound()) return uint64_t{1};
  if (!s.ok()) return DbError(s, "get next id");
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
  if (ec != std::errc() || end != value.data() + value.size() || id == 0) {
    return MakeError(ErrorCode::kCorrupt, "metadata next id \"" + value + "\"");
  }
  return id;
}

Result<Record> MetaStore::Create(SnapshotInfo info) {
  RETURN_IF_ERROR(ValidateName(info.name));
  RETURN_IF_ERROR(ValidateLabels(info.labels));
  if (info.kind != Kind::kActive && info.kind != Kind::kView) {
    return MakeError(ErrorCode::kInvalidArgument, "snapshot \"" + info.name + "\": bad kind");
  }
  auto existing = Get(info.name);
  if (existing) return MakeError(ErrorCode::kAlreadyExists, "snapshot \"" + info.name + "\"");
  if (existing.error().code != ErrorCode::kNotFound) return existing.error();
  if (!info.parent.empty()) {
    TRY(Record parent, Get(info.parent));
    if (parent.info.kind != Kind::kCommitted) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "parent \"" + info.parent + "\" is not a committed snapshot");
    }
  }
  TRY(uint64_t id, NextId());
  Record record{.id = id, .info = std::move(info), .usage = {}, .remote_dir = {}};
  rocksdb::WriteBatch batch;
  batch.Put(SnapshotKey(record.info.name), EncodeRecord(record));
  batch.Put(kNextIdKey, std::to_string(id + 1));
  if (!record.info.parent.empty()) batch.Put(ChildKey(record.info.parent, record.info.name), "");
  RETURN_IF_ERROR(WriteSynced(db_.get(), &batch, "create \"" + record.info.name + "\""));
  return record;
}

Result<Record> MetaStore::Commit(const std::string& name, const std::string& key,
                                 const Labels& labels, const Usage& usage, int64_t now_ns) {
  RETURN_IF_ERROR(ValidateName(name));
  RETURN_IF_ERROR(ValidateLabels(labels));
  TRY(Record record, Get(key));
  if (record.info.kind != Kind::kActive) {
    return MakeError(ErrorCode::kFailedPrecondition, "snapshot \"" + key + "\" is not active");
  }
  auto existing = Get(name);
  if (existing) return MakeError(ErrorCode::kAlreadyExists, "snapshot \"" + name + "\"");
  if (existing.error().code != ErrorCode::kNotFound) return existing.error();
  // An active snapshot cannot have children (only committed ones can be parents).
  record.info.name = name;
  record.info.kind = Kind::kCommitted;
  record.info.labels = labels;
  record.info.created_ns = now_ns;
  record.info.updated_ns = now_ns;
  record.usage = usage;
  rocksdb::WriteBatch batch;
  batch.Delete(SnapshotKey(key));
  batch.Put(SnapshotKey(name), EncodeRecord(record));
  if (!record.info.parent.empty()) {
    batch.Delete(ChildKey(record.info.parent, key));
    batch.Put(ChildKey(record.info.parent, name), "");
  }
  RETURN_IF_ERROR(WriteSynced(db_.get(), &batch, "commit \"" + key + "\" as \"" + name + "\""));
  return record;
}

Result<Record> MetaStore::Remove(const std::string& name) {
  TRY(Record record, Get(name));
  TRY(bool has_children, HasChildren(name));
  if (has_children) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "cannot remove snapshot \"" + name + "\": it has children");
  }
  rocksdb::WriteBatch batch;
  batch.Delete(SnapshotKey(name));
  if (!record.info.parent.empty()) batch.Delete(ChildKey(record.info.parent, name));
  RETURN_IF_ERROR(WriteSynced(db_.get(), &batch, "remove \"" + name + "\""));
  return record;
}

Status MetaStore::Put(const Record& record) {
  RETURN_IF_ERROR(ValidateLabels(record.info.labels));
  TRY(Record existing, Get(record.info.name));
  (void)existing;
  rocksdb::WriteBatch batch;
  batch.Put(SnapshotKey(record.info.name), EncodeRecord(record));
  return WriteSynced(db_.get(), &batch, "update \"" + record.info.name + "\"");
}

}  // namespace tessera::snapshotter::internal
