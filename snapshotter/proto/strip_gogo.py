#!/usr/bin/env python3
"""Copies containerd .proto files into the build tree without their gogoproto options.

protoc 3.21's C++ generator aborts on the gogo extensions containerd's protos use (they are Go
code-generation hints only), so the build generates C++ from stripped copies. Usage:
  strip_gogo.py SRC_ROOT DST_ROOT REL_PATH...
Each REL_PATH (relative to SRC_ROOT, e.g. api/types/mount.proto) is written to
DST_ROOT/github.com/containerd/containerd/REL_PATH so that containerd's own import paths resolve.
Nothing else changes: messages, fields and numbers stay as containerd defines them.
"""
import pathlib
import re
import sys

IMPORT = re.compile(r'^\s*import\s+(weak\s+)?"gogoproto/gogo\.proto"\s*;\s*$')
FILE_OR_ENUM_OPTION = re.compile(r'^\s*option\s+\(gogoproto\.[a-z_]+\)\s*=\s*[^;]*;\s*$')
FIELD_OPTION = re.compile(r'\(gogoproto\.[a-z_]+\)\s*=\s*("[^"]*"|[A-Za-z0-9_.]+)')
BRACKETS = re.compile(r'\[([^\]]*)\]')


def strip_brackets(match: re.Match) -> str:
    kept = [o.strip() for o in FIELD_OPTION.sub("", match.group(1)).split(",")]
    kept = [o for o in kept if o]
    return "[" + ", ".join(kept) + "]" if kept else ""


def strip(text: str) -> str:
    out = []
    for line in text.splitlines():
        if IMPORT.match(line) or FILE_OR_ENUM_OPTION.match(line):
            continue
        if "gogoproto" in line:
            line = BRACKETS.sub(strip_brackets, line)
            line = re.sub(r"\s+;", ";", line)
        if "gogoproto" in line:
            raise SystemExit(f"strip_gogo: cannot strip option in: {line.strip()}")
        out.append(line)
    return "\n".join(out) + "\n"


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    for rel in sys.argv[3:]:
        target = dst / "github.com/containerd/containerd" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        text = strip((src / rel).read_text())
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
