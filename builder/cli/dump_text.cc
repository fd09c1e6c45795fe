// Text rendering of the dump document (see dump_model.h).
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "dump_model.h"

namespace tessera::builder::cli {
namespace {

using json = nlohmann::ordered_json;

std::string Join(const json& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ' ';
    out += n.get<std::string>();
  }
  return out.empty() ? "-" : out;
}

// "drwxr-xr-x" from st_mode.
std::string ModeString(uint32_t mode) {
  char type = '?';
  switch (mode & S_IFMT) {
    case S_IFREG:
      type = '-';
      break;
    case S_IFDIR:
      type = 'd';
      break;
    case S_IFLNK:
      type = 'l';
      break;
    case S_IFCHR:
      type = 'c';
      break;
    case S_IFBLK:
      type = 'b';
      break;
    case S_IFIFO:
      type = 'p';
      break;
    case S_IFSOCK:
      type = 's';
      break;
  }
  std::string s(1, type);
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (mode & (0400 >> i)) ? rwx[i] : '-';
  if (mode & S_ISUID) s[3] = (mode & S_IXUSR) ? 's' : 'S';
  if (mode & S_ISGID) s[6] = (mode & S_IXGRP) ? 's' : 'S';
  if (mode & S_ISVTX) s[9] = (mode & S_IXOTH) ? 't' : 'T';
  return s;
}

void Line(std::string& out, const char* key, const std::string& value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "  %-16s ", key);
  out += buf;
  out += value;
  out += '\n';
}

std::string Str(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

void RenderSuper(const json& sb, std::string& out) {
  out += "superblock:\n";
  Line(out, "magic:", Str(sb["magic"]));
  Line(out, "block size:", Str(sb["block_size"]));
  Line(out, "features:",
       "compat " + Join(sb["features_compat"]) + "; incompat " + Join(sb["features_incompat"]));
  Line(out, "checksum:", Str(sb["checksum"]));
  Line(out, "root nid:", Str(sb["root_nid"]));
  Line(out, "inodes:", Str(sb["inodes"]));
  Line(out, "blocks:", Str(sb["blocks"]));
  Line(out, "meta_blkaddr:", Str(sb["meta_blkaddr"]));
  Line(out, "xattr_blkaddr:", Str(sb["xattr_blkaddr"]));
  Line(out, "uuid:", Str(sb["uuid"]));
  Line(out, "volume name:", sb["volume_name"].dump(-1, ' ', false, json::error_handler_t::replace));
  char time[96];
  std::snprintf(time, sizeof(time), "%s.%09u (%s)", Str(sb["build_time"]).c_str(),
                sb["build_time_nsec"].get<unsigned>(), Str(sb["build_time_utc"]).c_str());
  Line(out, "build time:", time);
  Line(out, "extra devices:", Str(sb["extra_devices"]));
}

void RenderDevices(const json& devices, std::string& out) {
  if (devices.empty()) return;
  out += "devices:\n";
  for (const auto& d : devices) {
    out += "  device " + Str(d["id"]) + ": tag " +
           (d["tag"].get<std::string>().empty() ? "-" : Str(d["tag"])) + " blocks " +
           Str(d["blocks"]) + " mapped_blkaddr " + Str(d["mapped_blkaddr"]);
    if (d.contains("file_size")) out += " file_size " + Str(d["file_size"]);
    out += '\n';
  }
}

void RenderChunks(const json& c, bool detail, std::string& out) {
  const uint64_t count = c["count"].get<uint64_t>();
  out += "  [" + std::to_string(count) + (count == 1 ? " chunk" : " chunks") + " x " +
         Str(c["chunk_size"]) + ", devices";
  for (const auto& d : c["devices"]) out += " " + Str(d);
  if (c["holes"].get<uint64_t>() > 0) out += ", " + Str(c["holes"]) + " holes";
  out += c["indexes"].get<bool>() ? "]" : ", block map]";
  if (!detail) return;
  uint64_t i = 0;
  for (const auto& ref : c["map"]) {
    out += "\n    chunk " + std::to_string(i++) + ": device " + Str(ref["device"]) + " blkaddr " +
           Str(ref["blkaddr"]);
  }
}

void RenderEntry(const json& e, std::string& out) {
  const uint32_t mode = e["mode"].get<uint32_t>();
  std::string size = Str(e["size"]);
  if (e.contains("rdev")) size = Str(e["rdev"]["major"]) + "," + Str(e["rdev"]["minor"]);
  char head[160];
  std::snprintf(head, sizeof(head), "%s %3s %5s:%-5s %10s  nid %-8s %-11s ",
                ModeString(mode).c_str(), Str(e["nlink"]).c_str(), Str(e["uid"]).c_str(),
                Str(e["gid"]).c_str(), size.c_str(), Str(e["nid"]).c_str(),
                Str(e["layout"]).c_str());
  out += head;
  out += Str(e["path"]);
  if (e.contains("target")) out += " -> " + Str(e["target"]);
  const bool detail = e.contains("xattrs");
  if (e.contains("chunks")) RenderChunks(e["chunks"], detail, out);
  out += '\n';
  if (!detail) return;
  for (const auto& x : e["xattrs"]) {
    out += "    xattr " + Str(x["name"]) + " = hex:" + Str(x["value_hex"]) + "\n";
  }
  if (e.contains("sha256")) out += "    sha256 " + Str(e["sha256"]) + "\n";
  if (e.contains("data_error")) out += "    data unreadable: " + Str(e["data_error"]) + "\n";
}

}  // namespace

std::string RenderText(const json& doc) {
  std::string out;
  RenderSuper(doc["superblock"], out);
  RenderDevices(doc["devices"], out);
  out += "entries:\n";
  for (const auto& e : doc["entries"]) RenderEntry(e, out);
  return out;
}

}  // namespace tessera::builder::cli
