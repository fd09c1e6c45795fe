#include "unit/builder/tar_test_util.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "content/content_store.h"

#include "tessera/common/process.h"

namespace tessera::builder::tartest {
namespace {

constexpr size_t kBlock = 512;

void PutString(std::string& block, size_t offset, size_t width, const std::string& value) {
  std::memcpy(block.data() + offset, value.data(), std::min(width, value.size()));
}

void PutOctal(std::string& block, size_t offset, size_t width, uint64_t value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));  // NOLINT(runtime/int)
  std::memcpy(block.data() + offset, buf, width - 1);
}

class NodeFileReader final : public testing::FileReader {
 public:
  explicit NodeFileReader(const erofs::Node& node) : node_(node) {}
  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> out) override {
    if (node_.data == nullptr || offset >= node_.size) return size_t{0};
    const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), node_.size - offset));
    RETURN_IF_ERROR(node_.data->ReadAt(offset, out.first(n)));
    return n;
  }

 private:
  const erofs::Node& node_;
};

class TreeNodeView final : public testing::TreeView {
 public:
  explicit TreeNodeView(const erofs::Tree& tree) : tree_(tree) { CountNames(tree_.root()); }

  std::string Name() const override { return "imported erofs::Tree"; }

  Result<testing::EntryAttrs> Stat(const std::string& path) const override {
    TRY(erofs::NodeId id, Find(path));
    const erofs::Node& n = tree_.node(id);
    testing::EntryAttrs a;
    a.mode = n.mode;
    a.uid = n.uid;
    a.gid = n.gid;
    a.size = S_ISLNK(n.mode) ? n.symlink_target.size() : n.size;
    a.mtime = n.mtime;
    a.mtime_nsec = n.mtime_nsec;
    a.rdev = n.rdev;
    a.ino = id;
    if (n.is_dir()) {
      a.nlink = 2;
      for (const auto& [name, child] : n.entries) a.nlink += tree_.node(child).is_dir() ? 1 : 0;
    } else {
      a.nlink = names_.at(id);
    }
    return a;
  }

  Result<std::vector<std::string>> List(const std::string& path) const override {
    TRY(erofs::NodeId id, Find(path));
    std::vector<std::string> names;
    for (const auto& [name, child] : tree_.node(id).entries) names.push_back(name);
    return names;
  }

  Result<std::string> ReadLink(const std::string& path) const override {
    TRY(erofs::NodeId id, Find(path));
    return tree_.node(id).symlink_target;
  }

  Result<std::vector<erofs::Xattr>> Xattrs(const std::string& path) const override {
    TRY(erofs::NodeId id, Find(path));
    std::vector<erofs::Xattr> xattrs = tree_.node(id).xattrs;
    std::sort(xattrs.begin(), xattrs.end(),
              [](const erofs::Xattr& a, const erofs::Xattr& b) { return a.name < b.name; });
    return xattrs;
  }

  Result<std::unique_ptr<testing::FileReader>> Open(const std::string& path) const override {
    TRY(erofs::NodeId id, Find(path));
    return std::unique_ptr<testing::FileReader>(new NodeFileReader(tree_.node(id)));
  }

 private:
  Result<erofs::NodeId> Find(const std::string& path) const {
    std::optional<erofs::NodeId> id = tree_.Find(path);
    if (!id.has_value()) return MakeError(ErrorCode::kNotFound, "no entry '" + path + "'");
    return *id;
  }

  void CountNames(erofs::NodeId dir) {
    for (const auto& [name, child] : tree_.node(dir).entries) {
      if (tree_.node(child).is_dir()) {
        CountNames(child);
      } else {
        ++names_[child];
      }
    }
  }

  const erofs::Tree& tree_;
  std::map<erofs::NodeId, uint64_t> names_;
};

}  // namespace

std::unique_ptr<testing::TreeView> MakeTreeNodeView(const erofs::Tree& tree) {
  return std::make_unique<TreeNodeView>(tree);
}

Result<size_t> StringStream::Read(std::span<uint8_t> out) {
  size_t n = std::min({out.size(), piece_, data_.size() - pos_});
  if (fail_at_.has_value()) {
    if (pos_ >= *fail_at_) {
      return MakeError(ErrorCode::kIo, "injected failure at byte " + std::to_string(pos_));
    }
    n = static_cast<size_t>(std::min<uint64_t>(n, *fail_at_ - pos_));
  }
  std::memcpy(out.data(), data_.data() + pos_, n);
  pos_ += n;
  return n;
}

void TarWriter::AddHeader(const Header& h) {
  std::string block(kBlock, '\0');
  PutString(block, 0, 100, h.name);
  PutOctal(block, 100, 8, h.mode);
  PutOctal(block, 108, 8, h.uid);
  PutOctal(block, 116, 8, h.gid);
  if (h.raw_size.has_value()) {
    PutString(block, 124, 12, *h.raw_size);
  } else {
    PutOctal(block, 124, 12, h.size);
  }
  PutOctal(block, 136, 12, static_cast<uint64_t>(std::max<int64_t>(h.mtime, 0)));
  block[156] = h.type;
  PutString(block, 157, 100, h.link);
  PutString(block, 257, 6, std::string("ustar\0", 6));
  PutString(block, 263, 2, "00");
  PutString(block, 265, 32, "root");
  PutString(block, 297, 32, "root");
  PutOctal(block, 329, 8, h.dev_major);
  PutOctal(block, 337, 8, h.dev_minor);
  PutString(block, 345, 155, h.prefix);
  std::memset(block.data() + 148, ' ', 8);
  uint32_t sum = 0;
  for (unsigned char c : block) sum += c;
  if (h.bad_checksum) sum += 1;
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%06o", sum);
  std::memcpy(block.data() + 148, buf, 6);
  block[154] = '\0';
  out_ += block;
}

void TarWriter::AddData(std::string_view data) {
  out_.append(data);
  out_.append((kBlock - data.size() % kBlock) % kBlock, '\0');
}

Header MakeHeader(const std::string& name, char type, uint64_t size) {
  Header h;
  h.name = name;
  h.type = type;
  h.size = size;
  return h;
}

void TarWriter::AddFile(const std::string& name, std::string_view data, uint32_t mode) {
  Header h = MakeHeader(name, '0', data.size());
  h.mode = mode;
  AddHeader(h);
  AddData(data);
}

void TarWriter::AddDir(const std::string& name, uint32_t mode, uint32_t uid) {
  Header h = MakeHeader(name, '5');
  h.mode = mode;
  h.uid = uid;
  AddHeader(h);
}

void TarWriter::AddSymlink(const std::string& name, const std::string& target) {
  Header h = MakeHeader(name, '2');
  h.link = target;
  h.mode = 0777;
  AddHeader(h);
}

void TarWriter::AddHardLink(const std::string& name, const std::string& target) {
  Header h = MakeHeader(name, '1');
  h.link = target;
  AddHeader(h);
}

std::string PaxRecord(const std::string& key, const std::string& value) {
  const std::string body = " " + key + "=" + value + "\n";
  size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len) ++len;
  return std::to_string(len) + body;
}

void TarWriter::AddPax(const std::vector<std::pair<std::string, std::string>>& records) {
  std::string data;
  for (const auto& [key, value] : records) data += PaxRecord(key, value);
  AddHeader(MakeHeader("PaxHeaders/x", 'x', data.size()));
  AddData(data);
}

void TarWriter::AddGnuLong(char type, const std::string& value) {
  const std::string data = value + '\0';
  AddHeader(MakeHeader("././@LongLink", type, data.size()));
  AddData(data);
}

std::string TarWriter::Finish() const { return out_ + std::string(2 * kBlock, '\0'); }

Status RunTool(const std::vector<std::string>& argv) {
  TRY(RunOutput out, RunCommand(argv));
  if (out.exit_code != 0) {
    std::string cmd;
    for (const std::string& a : argv) cmd += a + " ";
    return MakeError(ErrorCode::kInternal, cmd + "exited " + std::to_string(out.exit_code));
  }
  return Ok();
}

Result<TarImportStats> ImportFile(const std::string& path, erofs::Tree& tree,
                                  const TarImportOptions& options) {
  TRY(UniqueFd fd, UniqueFd::Open(path, O_RDONLY));
  FdStream stream(std::move(fd), path);
  MemoryContentStore store;
  return ImportTar(stream, path, tree, store, options);
}

Result<TarImportStats> ImportBytes(const std::string& bytes, erofs::Tree& tree,
                                   const TarImportOptions& options, size_t piece) {
  StringStream stream(bytes, piece);
  MemoryContentStore store;
  return ImportTar(stream, "test.tar", tree, store, options);
}

std::string NodeBytes(const erofs::Node& node) {
  if (node.data == nullptr) return "";
  std::string out(static_cast<size_t>(node.data->Size()), '\0');
  if (!node.data->ReadAt(0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size()))
           .has_value()) {
    return "<read error>";
  }
  return out;
}

}  // namespace tessera::builder::tartest
