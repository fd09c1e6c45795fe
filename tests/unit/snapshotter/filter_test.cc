// The filter grammar (filters/filter.h) as a table: each row is a filter string and whether it
// matches a fixed snapshot, or that it must be rejected.
#include "filters/filter.h"

#include <gtest/gtest.h>

namespace tessera::snapshotter::internal {
namespace {

SnapshotInfo Sample() {
  return SnapshotInfo{.name = "default/4/sha256:abc",
                      .parent = "default/2/sha256:def",
                      .kind = Kind::kCommitted,
                      .labels = {{"containerd.io/snapshot.ref", "sha256:abc"},
                                 {"plain", "v"},
                                 {"empty", ""},
                                 {"a.b", "dotted"},
                                 {"very complex label", "x y"}},
                      .created_ns = 1,
                      .updated_ns = 2};
}

struct Row {
  const char* filter;
  bool matches;
};

class FilterMatchTest : public ::testing::TestWithParam<Row> {};

TEST_P(FilterMatchTest, MatchesSample) {
  auto f = ParseFilter(GetParam().filter);
  ASSERT_TRUE(f.has_value()) << f.error().ToString();
  EXPECT_EQ(f->Match(Sample()), GetParam().matches) << GetParam().filter;
}

INSTANTIATE_TEST_SUITE_P(
    Grammar, FilterMatchTest,
    ::testing::Values(
        Row{"", true}, Row{"   ", true}, Row{"name==default/4/sha256:abc", true},
        Row{"name==default/4/sha256:ab", false}, Row{"name!=other", true},
        Row{"name!=default/4/sha256:abc", false}, Row{"parent==default/2/sha256:def", true},
        Row{"parent", true}, Row{"kind==committed", true}, Row{"kind==active", false},
        Row{"kind!=view", true}, Row{R"(labels."containerd.io/snapshot.ref"==sha256:abc)", true},
        Row{R"(labels."containerd.io/snapshot.ref"==sha256:abd)", false},
        Row{R"(labels."containerd.io/snapshot.ref")", true}, Row{R"(labels."missing")", false},
        Row{"labels.plain", true}, Row{"labels.plain==v", true}, Row{"labels.empty", true},
        Row{"labels.empty==\"\"", true}, Row{"labels.a.b==dotted", true},
        Row{R"(labels."very complex label"=="x y")", true}, Row{"labels.missing!=v", true},
        Row{"labels", false}, Row{"unknownfield", false},
        Row{"name==default/4/sha256:abc,kind==committed", true},
        Row{"name==default/4/sha256:abc,kind==view", false},
        Row{" name == default/4/sha256:abc , labels.plain ", true}, Row{"name~=sha256:a", true},
        Row{"name~=^sha256", false}, Row{"name~=/abc$/", true},
        Row{"name~=|^default/[0-9]+/|", true}, Row{R"(labels.plain~="^v$")", true},
        Row{"labels.nope~=.*", false}, Row{R"("name"==default/4/sha256:abc)", true},
        Row{R"(name=="default/4/sha256:\x61bc")", true},
        Row{R"(name=="default/4/sha256:\u0061bc")", true},
        Row{R"(name=="default/4/sha256:\141bc")", true}));

class FilterRejectTest : public ::testing::TestWithParam<const char*> {};

TEST_P(FilterRejectTest, IsInvalidArgument) {
  auto f = ParseFilter(GetParam());
  ASSERT_FALSE(f.has_value()) << GetParam();
  EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(f.error().context.find("offset"), std::string::npos) << f.error().context;
}

INSTANTIATE_TEST_SUITE_P(Grammar, FilterRejectTest,
                         ::testing::Values("name==", "name=", "name=x", "name<x", "==x", ",",
                                           "name==a,", "name==a,,kind", "labels.", "labels..x",
                                           "1abc", R"(labels."unterminated)",
                                           R"(name=="bad \q escape")", R"(name=="\x4")",
                                           "name~=/(/", "name==a b", "labels.a-b", "name==\"a\"x"));

TEST(FilterSetTest, SeparateFiltersAreAlternatives) {
  auto set = FilterSet::Parse({"kind==view", "labels.plain==v"});
  ASSERT_TRUE(set.has_value());
  EXPECT_TRUE(set->Match(Sample()));
  auto none = FilterSet::Parse({"kind==view", "labels.plain==w"});
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->Match(Sample()));
  auto all = FilterSet::Parse({});
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(all->Match(Sample()));
}

TEST(FilterSetTest, OneBadFilterFailsTheSet) {
  auto set = FilterSet::Parse({"kind==view", "name=="});
  ASSERT_FALSE(set.has_value());
  EXPECT_EQ(set.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::snapshotter::internal
