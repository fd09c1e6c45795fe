// MetaStore: validation rules, the children index, atomicity, and persistence across reopen.
#include "metastore/metastore.h"

#include <gtest/gtest.h>

#include "tessera/common/process.h"

namespace tessera::snapshotter::internal {
namespace {

SnapshotInfo Info(const std::string& name, const std::string& parent = "",
                  Kind kind = Kind::kActive, const Labels& labels = {}) {
  return SnapshotInfo{.name = name,
                      .parent = parent,
                      .kind = kind,
                      .labels = labels,
                      .created_ns = 1,
                      .updated_ns = 1};
}

class MetaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("metastore-test");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
    Reopen();
  }
  void Reopen() {
    store_.reset();
    auto s = MetaStore::Open(dir_->path() + "/db");
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
  }
  Record Create(const std::string& name, const std::string& parent, Kind kind = Kind::kActive) {
    auto r = store_->Create(Info(name, parent, kind));
    EXPECT_TRUE(r.has_value()) << name << ": " << r.error().ToString();
    return r.value_or(Record{});
  }
  void CommitAs(const std::string& name, const std::string& key) {
    auto r = store_->Commit(name, key, {{"l", "v"}}, Usage{.size = 4096, .inodes = 2}, 77);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  }

  std::optional<TempDir> dir_;
  std::unique_ptr<MetaStore> store_;
};

TEST_F(MetaStoreTest, IdsIncreaseAndSurviveReopen) {
  EXPECT_EQ(Create("a", "").id, 1u);
  EXPECT_EQ(Create("b", "").id, 2u);
  Reopen();
  EXPECT_EQ(*store_->NextId(), 3u);
  EXPECT_EQ(Create("c", "").id, 3u);
  auto b = store_->Get("b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->id, 2u);
  EXPECT_EQ(b->info.kind, Kind::kActive);
}

TEST_F(MetaStoreTest, CreateChecksNameAndParent) {
  Create("a", "");
  EXPECT_EQ(store_->Create(Info("a")).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->Create(Info("b", "nope")).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->Create(Info("b", "a")).error().code,
            ErrorCode::kInvalidArgument);  // parent is active, not committed
  EXPECT_EQ(store_->Create(Info("")).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Create(Info(std::string("x\0y", 3))).error().code, ErrorCode::kInvalidArgument);
  Labels big{{"k", std::string(4096, 'v')}};
  EXPECT_EQ(store_->Create(Info("c", "", Kind::kActive, big)).error().code,
            ErrorCode::kInvalidArgument);
  // Failed creates consumed no id.
  EXPECT_EQ(*store_->NextId(), 2u);
}

TEST_F(MetaStoreTest, CommitMovesTheChildIndexAndKeepsTheId) {
  Create("k1", "");
  CommitAs("base", "k1");
  Create("k2", "base");
  EXPECT_EQ(*store_->Children("base"), std::vector<std::string>{"k2"});
  CommitAs("top", "k2");
  EXPECT_EQ(*store_->Children("base"), std::vector<std::string>{"top"});
  EXPECT_EQ(store_->Get("k2").error().code, ErrorCode::kNotFound);
  auto top = store_->Get("top");
  ASSERT_TRUE(top.has_value());
  EXPECT_EQ(top->id, 2u);
  EXPECT_EQ(top->info.kind, Kind::kCommitted);
  EXPECT_EQ(top->info.parent, "base");
  EXPECT_EQ(top->usage.size, 4096);
  EXPECT_EQ(top->info.labels, (Labels{{"l", "v"}}));
  EXPECT_EQ(top->info.created_ns, 77);
}

TEST_F(MetaStoreTest, CommitRules) {
  Create("k1", "");
  CommitAs("base", "k1");
  Create("v", "base", Kind::kView);
  Create("k2", "base");
  auto r = store_->Commit("x", "v", {}, {}, 1);
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->Commit("base", "k2", {}, {}, 1).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->Commit("y", "nope", {}, {}, 1).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->Commit("base2", "base", {}, {}, 1).error().code,
            ErrorCode::kFailedPrecondition);
}

TEST_F(MetaStoreTest, RemoveRefusesParentsAndUpdatesTheIndex) {
  Create("k1", "");
  CommitAs("base", "k1");
  Create("child", "base");
  EXPECT_EQ(store_->Remove("base").error().code, ErrorCode::kFailedPrecondition);
  auto removed = store_->Remove("child");
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed->id, 2u);
  EXPECT_FALSE(*store_->HasChildren("base"));
  ASSERT_TRUE(store_->Remove("base").has_value());
  EXPECT_EQ(store_->Remove("base").error().code, ErrorCode::kNotFound);
  Reopen();
  EXPECT_TRUE(store_->List()->empty());
  EXPECT_EQ(*store_->NextId(), 3u);  // ids are never reused
}

TEST_F(MetaStoreTest, PutReplacesOnlyExistingRecords) {
  Record r = Create("a", "");
  r.info.labels = {{"x", "1"}};
  r.info.updated_ns = 5;
  ASSERT_TRUE(store_->Put(r).has_value());
  Reopen();
  EXPECT_EQ(store_->Get("a")->info.labels, (Labels{{"x", "1"}}));
  r.info.name = "b";
  EXPECT_EQ(store_->Put(r).error().code, ErrorCode::kNotFound);
}

TEST(RecordTest, RoundTripAndCorruption) {
  Record r{.id = 7,
           .info = {.name = "n",
                    .parent = "p",
                    .kind = Kind::kView,
                    .labels = {{"a", "b"}},
                    .created_ns = 1,
                    .updated_ns = 2},
           .usage = {.size = 3, .inodes = 4},
           .remote_dir = "/mnt/x"};
  auto back = DecodeRecord("n", EncodeRecord(r));
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->id, 7u);
  EXPECT_EQ(back->info.parent, "p");
  EXPECT_EQ(back->info.kind, Kind::kView);
  EXPECT_EQ(back->info.labels, r.info.labels);
  EXPECT_EQ(back->usage.inodes, 4);
  EXPECT_EQ(back->remote_dir, "/mnt/x");
  for (const char* bad : {"", "[]", "{\"id\":1}", "{not json",
                          R"({"id":0,"kind":"view","parent":"","labels":{},"created":0,)"
                          R"("updated":0,"size":0,"inodes":0})",
                          R"({"id":1,"kind":"weird","parent":"","labels":{},"created":0,)"
                          R"("updated":0,"size":0,"inodes":0})"}) {
    auto d = DecodeRecord("n", bad);
    ASSERT_FALSE(d.has_value()) << bad;
    EXPECT_EQ(d.error().code, ErrorCode::kCorrupt) << bad;
  }
}

}  // namespace
}  // namespace tessera::snapshotter::internal
