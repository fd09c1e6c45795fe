#include "tessera/common/result.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace tessera {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return MakeError(ErrorCode::kInvalidArgument, "odd value " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  TRY(int h, Half(x));
  TRY(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  RETURN_IF_ERROR_CTX(Half(x), "field 'x'");
  return Ok();
}

TEST(ResultTest, ValueAndError) {
  Result<int> ok = Half(8);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 4);
  Result<int> bad = Half(3);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().ToString(), "invalid argument: odd value 3");
}

TEST(ResultTest, TryPropagatesFirstError) {
  EXPECT_EQ(*Quarter(12), 3);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().context, "odd value 3");
}

TEST(ResultTest, ReturnIfErrorAddsContext) {
  EXPECT_TRUE(CheckEven(2).has_value());
  Status st = CheckEven(5);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().context, "field 'x': odd value 5");
}

TEST(ResultTest, ErrnoMapping) {
  EXPECT_EQ(ErrnoError(ENOENT, "x").code, ErrorCode::kNotFound);
  EXPECT_EQ(ErrnoError(EIO, "x").code, ErrorCode::kIo);
  EXPECT_EQ(ErrorCodeToErrno(ErrorCode::kCorrupt, 0), EIO);
  EXPECT_EQ(ErrorCodeToErrno(ErrorCode::kNotFound, 0), ENOENT);
  EXPECT_EQ(ErrorCodeToErrno(ErrorCode::kIo, ENOSPC), ENOSPC);
  EXPECT_NE(ErrnoError(EIO, "f").ToString().find("f ("), std::string::npos);
}

TEST(ResultTest, MoveOnlyValue) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

}  // namespace
}  // namespace tessera
