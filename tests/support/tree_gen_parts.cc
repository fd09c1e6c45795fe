// The groups of edge cases of GenerateEdgeCaseTree (see tree_gen.h).
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "support/data_gen.h"
#include "support/tree_gen.h"
#include "support/tree_gen_internal.h"

namespace tessera::testing::internal {
namespace {

std::string Numbered(const char* prefix, int n, int width = 5) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s%0*d", prefix, width, n);
  return buf;
}

std::string Printable(size_t size, uint64_t seed) {
  std::vector<uint8_t> bytes = MakeContent(ContentKind::kText, seed, size);
  return std::string(bytes.begin(), bytes.end());
}

std::string Binary(size_t size, uint64_t seed) {
  std::vector<uint8_t> bytes = MakeContent(ContentKind::kRandom, seed, size);
  return std::string(bytes.begin(), bytes.end());
}

Status AddDeep(TreeBuilder& b) {
  std::string path = "deep";
  RETURN_IF_ERROR(b.Mkdir(path));
  for (int depth = 1; depth <= 20; ++depth) {
    path += "/" + Numbered("d", depth, 2);
    RETURN_IF_ERROR(b.Mkdir(path));
  }
  return b.Text(path + "/leaf", "the bottom of a 20-level nest\n");
}

// 3000 entries: mostly files (some with data), a few directories and symlinks, so the
// directory spans many blocks and its entries have mixed types.
Status AddBigDir(TreeBuilder& b) {
  RETURN_IF_ERROR(b.Mkdir(kEdgeBigDir));
  for (int i = 0; i < kEdgeBigDirEntries; ++i) {
    std::string rel = std::string(kEdgeBigDir) + "/" + Numbered("entry_", i);
    if (i % 500 == 7) {
      RETURN_IF_ERROR(b.Mkdir(rel));
    } else if (i % 300 == 11) {
      RETURN_IF_ERROR(b.Symlink("entry_00000", rel));
    } else if (i % 100 == 0) {
      RETURN_IF_ERROR(b.File(rel, 100 + i, ContentKind::kText));
    } else {
      RETURN_IF_ERROR(b.File(rel, 0));
    }
  }
  return Ok();
}

// Names of `max_name` bytes (255, or 254 for mkfs.erofs 1.5) and unusual characters.
Status AddNames(TreeBuilder& b, size_t max_name) {
  RETURN_IF_ERROR(b.Mkdir("names"));
  std::string utf8_max;
  while (utf8_max.size() + 2 <= max_name) utf8_max += "\xc3\xa9";  // U+00E9, 2 bytes
  utf8_max.resize(max_name, 'x');
  const std::vector<std::string> names = {std::string(max_name, 'n'),
                                          utf8_max,
                                          "!bang",
                                          "-dash",
                                          "#hash",
                                          "+plus",
                                          "with space",
                                          " leading space",
                                          "trailing space ",
                                          "\xff\xfe-not-utf8",
                                          "\xc3\xbcnic\xc3\xb8"
                                          "de-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x99\x82",
                                          ".hidden",
                                          "..dotdot",
                                          "~tilde",
                                          "a",
                                          "A",
                                          "z"};
  for (const auto& name : names) RETURN_IF_ERROR(b.Text("names/" + name, name + "\n"));
  // A directory of long names: 40 * (12 + 255) bytes of dirents span three blocks.
  RETURN_IF_ERROR(b.Mkdir("names/long"));
  for (int i = 0; i < 40; ++i) {
    std::string name = std::string(max_name - 5, 'L') + Numbered("_", i, 4);
    RETURN_IF_ERROR(b.File("names/long/" + name, static_cast<uint64_t>(i)));
  }
  RETURN_IF_ERROR(b.Mkdir("names/" + std::string(max_name, 'D')));
  // Dirents filling exactly one block: "." and ".." (27 bytes), 19 * (12 + 200), 12 + 29.
  RETURN_IF_ERROR(b.Mkdir("names/exact_block"));
  for (char c = 'a'; c < 'a' + 19; ++c) {
    RETURN_IF_ERROR(b.File("names/exact_block/" + std::string(200, c), 0));
  }
  return b.File("names/exact_block/" + std::string(29, 'z'), 0);
}

// A POSIX ACL in the kernel's xattr format (version 2, then tag/perm/id entries).
std::string Acl(const std::vector<std::tuple<uint16_t, uint16_t, uint32_t>>& entries) {
  std::string out;
  auto put = [&out](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  put(2, 4);
  for (const auto& [tag, perm, id] : entries) {
    put(tag, 2);
    put(perm, 2);
    put(id, 4);
  }
  return out;
}

Status AddAcls(TreeBuilder& b) {
  constexpr uint32_t kNoId = 0xFFFFFFFF;
  // Tags: 1 USER_OBJ, 2 USER, 4 GROUP_OBJ, 8 GROUP, 0x10 MASK, 0x20 OTHER.
  const std::string access = Acl({{1, 6, kNoId},
                                  {2, 6, 1000},
                                  {4, 4, kNoId},
                                  {8, 4, 70000},
                                  {0x10, 6, kNoId},
                                  {0x20, 4, kNoId}});
  RETURN_IF_ERROR(b.Text("xattrs/acl_file", "a file with an access ACL\n"));
  RETURN_IF_ERROR(b.Xattr("xattrs/acl_file", "system.posix_acl_access", access));
  RETURN_IF_ERROR(b.Mkdir("xattrs/acl_dir"));
  RETURN_IF_ERROR(b.Xattr("xattrs/acl_dir", "system.posix_acl_access", access));
  const std::string dflt =
      Acl({{1, 7, kNoId}, {4, 5, kNoId}, {8, 5, 1000}, {0x10, 7, kNoId}, {0x20, 5, kNoId}});
  return b.Xattr("xattrs/acl_dir", "system.posix_acl_default", dflt);
}

}  // namespace

Status AddStructure(TreeBuilder& b, size_t max_name) {
  RETURN_IF_ERROR(b.Own("", 1000, 1000));
  RETURN_IF_ERROR(b.Chmod("", 0750));
  RETURN_IF_ERROR(b.Xattr("", "user.root", "the root directory"));
  RETURN_IF_ERROR(b.Mkdir("empty_dir"));
  RETURN_IF_ERROR(AddDeep(b));
  RETURN_IF_ERROR(AddBigDir(b));
  return AddNames(b, max_name);
}

Status AddFilesAndLinks(TreeBuilder& b) {
  RETURN_IF_ERROR(b.Mkdir("files"));
  for (uint64_t size : {0ull, 1ull, 4095ull, 4096ull, 4097ull, 8191ull, 65539ull}) {
    RETURN_IF_ERROR(b.File("files/size_" + std::to_string(size), size));
  }
  RETURN_IF_ERROR(b.File("files/size_1048577", (1 << 20) + 1, ContentKind::kText));
  RETURN_IF_ERROR(b.File("files/size_10485760", 10 << 20, ContentKind::kMixed));
  RETURN_IF_ERROR(b.File("files/zeros_65536", 65536, ContentKind::kZeros));
  RETURN_IF_ERROR(b.File("files/text_12288", 12288, ContentKind::kText));

  RETURN_IF_ERROR(b.Mkdir("links"));
  RETURN_IF_ERROR(b.Symlink("../files/size_1", "links/short"));
  std::string t300;
  while (t300.size() < 300) t300 += "component-" + std::to_string(t300.size()) + "/";
  RETURN_IF_ERROR(b.Symlink(t300.substr(0, 300), "links/target_300"));
  std::string t4095;
  while (t4095.size() < 4095) t4095 += Numbered("dir", static_cast<int>(t4095.size()), 6) + "/";
  RETURN_IF_ERROR(b.Symlink(t4095.substr(0, 4095), "links/target_4095"));
  RETURN_IF_ERROR(b.Symlink("does/not/exist", "links/dangling"));
  RETURN_IF_ERROR(b.Symlink("/usr/bin/env", "links/absolute"));
  RETURN_IF_ERROR(b.Symlink("../deep", "links/to_dir"));
  RETURN_IF_ERROR(b.Symlink("loop", "links/loop"));
  RETURN_IF_ERROR(b.Symlink(".", "links/dot"));
  return b.Symlink("x", "links/one_byte");
}

Status AddSpecialsAndLinks(TreeBuilder& b) {
  RETURN_IF_ERROR(b.Mkdir("devices"));
  RETURN_IF_ERROR(b.Node("devices/char_1_3", S_IFCHR, makedev(1, 3), 0666));
  RETURN_IF_ERROR(b.Node("devices/block_8_1", S_IFBLK, makedev(8, 1), 0660));
  RETURN_IF_ERROR(b.Node("devices/char_259_300000", S_IFCHR, makedev(259, 300000), 0600));
  RETURN_IF_ERROR(b.Node("devices/block_4095_1048575", S_IFBLK, makedev(4095, 1048575), 0600));
  RETURN_IF_ERROR(b.Node("devices/fifo", S_IFIFO, 0, 0640));
  RETURN_IF_ERROR(b.Socket("devices/socket"));

  RETURN_IF_ERROR(b.Mkdir("hardlinks"));
  RETURN_IF_ERROR(b.Mkdir("hardlinks/sub"));
  RETURN_IF_ERROR(b.File(kEdgeHardlinkA, 5000));
  RETURN_IF_ERROR(b.Xattr(kEdgeHardlinkA, "user.linked", "one inode, three names"));
  RETURN_IF_ERROR(b.Link(kEdgeHardlinkA, "hardlinks/b"));
  RETURN_IF_ERROR(b.Link(kEdgeHardlinkA, "hardlinks/sub/c"));
  RETURN_IF_ERROR(b.Symlink("target-of-a-hard-linked-symlink", "hardlinks/symlink_1"));
  RETURN_IF_ERROR(b.Link("hardlinks/symlink_1", "hardlinks/symlink_2"));
  RETURN_IF_ERROR(b.Node("hardlinks/fifo_1", S_IFIFO, 0, 0644));
  RETURN_IF_ERROR(b.Link("hardlinks/fifo_1", "hardlinks/sub/fifo_2"));
  RETURN_IF_ERROR(b.Node("hardlinks/chr_1", S_IFCHR, makedev(1, 5), 0644));
  RETURN_IF_ERROR(b.Link("hardlinks/chr_1", "hardlinks/chr_2"));
  RETURN_IF_ERROR(b.File("hardlinks/empty_1", 0));
  return b.Link("hardlinks/empty_1", "hardlinks/empty_2");
}

Status AddOwnersModesTimes(TreeBuilder& b) {
  RETURN_IF_ERROR(b.Mkdir("owners"));
  const std::vector<std::pair<uid_t, gid_t>> ids = {{0, 0},
                                                    {1000, 1000},
                                                    {65535, 65535},
                                                    {65536, 65536},
                                                    {70000, 70000},
                                                    {1000, 70000},
                                                    {4294967294u, 4294967294u}};
  for (const auto& [uid, gid] : ids) {
    std::string rel = "owners/u" + std::to_string(uid) + "_g" + std::to_string(gid);
    RETURN_IF_ERROR(b.File(rel, 10));
    RETURN_IF_ERROR(b.Own(rel, uid, gid));
  }
  RETURN_IF_ERROR(b.Mkdir("owners/dir_1000"));
  RETURN_IF_ERROR(b.Own("owners/dir_1000", 1000, 1000));
  RETURN_IF_ERROR(b.Symlink("link-owned-by-70000", "owners/link_70000"));
  RETURN_IF_ERROR(b.Own("owners/link_70000", 70000, 70000));
  RETURN_IF_ERROR(b.Node("owners/fifo_70000", S_IFIFO, 0, 0600));
  RETURN_IF_ERROR(b.Own("owners/fifo_70000", 70000, 1000));

  // chmod after chown: chown clears the setuid and setgid bits.
  RETURN_IF_ERROR(b.Mkdir("modes"));
  const std::vector<std::pair<const char*, mode_t>> modes = {
      {"setuid", 04755}, {"setgid", 02755},   {"setuid_setgid", 06711}, {"all_bits", 07777},
      {"zero", 0},       {"read_only", 0444}, {"exec", 0755},           {"odd", 0123}};
  for (const auto& [name, mode] : modes) {
    RETURN_IF_ERROR(b.File(std::string("modes/") + name, 7, ContentKind::kText, mode));
  }
  RETURN_IF_ERROR(b.Mkdir("modes/sticky_dir", 01777));
  RETURN_IF_ERROR(b.Mkdir("modes/setgid_dir", 02775));
  RETURN_IF_ERROR(b.Mkdir("modes/dir_0700", 0700));
  RETURN_IF_ERROR(b.Text("modes/dir_0700/inside", "in a private dir\n"));
  RETURN_IF_ERROR(b.Mkdir("modes/dir_0000", 0));

  RETURN_IF_ERROR(b.Mkdir("times"));
  const std::vector<std::tuple<const char*, int64_t, long>> times = {
      {"nsec", 1234567890, 123456789},
      {"billion", 1000000000, 0},
      {"epoch", 0, 0},
      {"pre_epoch", -86400, 250000000},
      {"far_future", 4102444800, 999999999},
      {"beyond_u32", 5000000000, 500000000},
      {"one_nsec", 1600000000, 1}};
  for (const auto& [name, sec, nsec] : times) {
    RETURN_IF_ERROR(b.Text(std::string("times/") + name, std::string(name) + "\n"));
    b.Time(std::string("times/") + name, sec, nsec);
  }
  RETURN_IF_ERROR(b.Mkdir("times/dir_nsec"));
  RETURN_IF_ERROR(b.Text("times/dir_nsec/inner", "inner\n"));
  b.Time("times/dir_nsec", 1500000000, 1);
  RETURN_IF_ERROR(b.Symlink("symlink-with-nsec-mtime", "times/link_nsec"));
  b.Time("times/link_nsec", 1600000000, 987654321);
  RETURN_IF_ERROR(b.Node("times/fifo_old", S_IFIFO, 0, 0644));
  b.Time("times/fifo_old", 1000000000, 123);
  return Ok();
}

Status AddXattrsAndOverlay(TreeBuilder& b) {
  RETURN_IF_ERROR(b.Mkdir("xattrs"));
  RETURN_IF_ERROR(b.Text("xattrs/file", "a file with several xattrs\n"));
  RETURN_IF_ERROR(b.Xattr("xattrs/file", "user.small", "v"));
  RETURN_IF_ERROR(b.Xattr("xattrs/file", "user.empty", ""));
  RETURN_IF_ERROR(b.Xattr("xattrs/file", "user.binary", std::string("\0\x01\xff\x7f", 4)));
  RETURN_IF_ERROR(b.Xattr("xattrs/file", "trusted.t", "trusted value"));
  RETURN_IF_ERROR(b.Xattr("xattrs/file", "security.s", "security value"));
  RETURN_IF_ERROR(b.File("xattrs/big", 3000));
  RETURN_IF_ERROR(b.Xattr("xattrs/big", "user.big", Printable(1000, 1)));
  RETURN_IF_ERROR(b.Xattr("xattrs/big", "trusted.big", Binary(1000, 2)));
  RETURN_IF_ERROR(b.Xattr("xattrs/big", "security.big", Printable(999, 3)));
  RETURN_IF_ERROR(b.Text("xattrs/many", "many xattrs\n"));
  for (int i = 0; i < 24; ++i) {
    RETURN_IF_ERROR(b.Xattr("xattrs/many", Numbered("user.k", i, 2), Numbered("value-", i, 3)));
  }
  RETURN_IF_ERROR(b.Text("xattrs/long_name", "long xattr name\n"));
  RETURN_IF_ERROR(b.Xattr("xattrs/long_name", "user." + std::string(200, 'n'), "v"));
  RETURN_IF_ERROR(b.Mkdir("xattrs/dir"));
  RETURN_IF_ERROR(b.Xattr("xattrs/dir", "user.dir", "d"));
  RETURN_IF_ERROR(b.Xattr("xattrs/dir", "trusted.dir", Printable(1000, 4)));
  RETURN_IF_ERROR(b.Symlink("target", "xattrs/symlink"));
  RETURN_IF_ERROR(b.Xattr("xattrs/symlink", "trusted.sym", "1"));
  RETURN_IF_ERROR(b.Xattr("xattrs/symlink", "security.sym", Printable(1000, 5)));
  RETURN_IF_ERROR(b.Node("xattrs/fifo", S_IFIFO, 0, 0644));
  RETURN_IF_ERROR(b.Xattr("xattrs/fifo", "trusted.fifo", "f"));
  for (int i = 1; i <= 4; ++i) {
    std::string rel = "xattrs/shared_" + std::to_string(i);
    RETURN_IF_ERROR(b.Text(rel, rel + "\n"));
    RETURN_IF_ERROR(b.Xattr(rel, "user.shared", "the same value on four files"));
    RETURN_IF_ERROR(b.Xattr(rel, "trusted.shared", "common"));
  }

  RETURN_IF_ERROR(AddAcls(b));

  RETURN_IF_ERROR(b.Mkdir("overlay"));
  RETURN_IF_ERROR(b.Node("overlay/whiteout", S_IFCHR, makedev(0, 0), 0));
  RETURN_IF_ERROR(b.Mkdir("overlay/opaque"));
  RETURN_IF_ERROR(b.Xattr("overlay/opaque", "trusted.overlay.opaque", "y"));
  RETURN_IF_ERROR(b.Text("overlay/opaque/kept", "kept\n"));
  RETURN_IF_ERROR(b.Mkdir("overlay/user_opaque"));
  return b.Xattr("overlay/user_opaque", "user.overlay.opaque", "y");
}

}  // namespace tessera::testing::internal
