// MetaStore: the snapshotter's metadata in RocksDB. Keys:
//   s/<name>                 -> Record (record.h)
//   c/<parent>\0<child>      -> "" (children index: who depends on a committed snapshot)
//   m/next_id                -> the next directory id (decimal)
// Every mutation is one WriteBatch written with sync, so a killed process leaves either the
// whole operation or none of it. Validation (existence, kinds, parents) happens here so the
// rules live in one place; directory work is the caller's.
//
// Thread-safety: reads may run concurrently; mutations must be serialized by the caller (they
// read, check, then write).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "metastore/record.h"

#include "tessera/common/result.h"

namespace rocksdb {
class DB;
}

namespace tessera::snapshotter::internal {

class MetaStore {
 public:
  // Opens (creating if missing) the database directory `dir`.
  static Result<std::unique_ptr<MetaStore>> Open(const std::string& dir);
  ~MetaStore();
  MetaStore(const MetaStore&) = delete;
  MetaStore& operator=(const MetaStore&) = delete;

  // kNotFound if there is no snapshot `name`.
  Result<Record> Get(const std::string& name) const;
  Result<std::vector<Record>> List() const;
  Result<bool> HasChildren(const std::string& name) const;
  // The names of `name`'s direct children (from the index).
  Result<std::vector<std::string>> Children(const std::string& name) const;
  // The id the next Create will use.
  Result<uint64_t> NextId() const;

  // Adds an active or view snapshot with id NextId(). kAlreadyExists if the name is taken,
  // kNotFound if the parent is missing, kInvalidArgument if it is not committed.
  Result<Record> Create(SnapshotInfo info);
  // Active `key` becomes committed `name` with the given labels and usage, keeping its id and
  // parent. kNotFound, kAlreadyExists (name), kFailedPrecondition (key not active).
  Result<Record> Commit(const std::string& name, const std::string& key, const Labels& labels,
                        const Usage& usage, int64_t now_ns);
  // Deletes `name`; kFailedPrecondition if it has children. Returns what was removed.
  Result<Record> Remove(const std::string& name);
  // Replaces an existing record (labels, timestamps); kNotFound if absent.
  Status Put(const Record& record);

 private:
  explicit MetaStore(std::unique_ptr<rocksdb::DB> db);
  std::unique_ptr<rocksdb::DB> db_;
};

// Checks a snapshot name (non-empty, no NUL) and labels (key and value together at most
// 4096 bytes, keys non-empty); kInvalidArgument naming the offender.
Status ValidateName(const std::string& name);
Status ValidateLabels(const Labels& labels);

}  // namespace tessera::snapshotter::internal
