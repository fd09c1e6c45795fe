#!/usr/bin/env python3
"""Fails if a component includes a header of a component it may not depend on.

The allowed edges are the dependency graph of shared/CONVENTIONS.md ("A <- B" means B may use A).
"""
import pathlib
import re
import sys

ALLOWED = {
    "common": set(),
    "erofs": {"common"},
    "oci": {"common"},
    "storage": {"common", "oci"},
    "virtio": {"common"},
    "builder": {"common", "erofs", "storage", "oci"},
    "nydusd": {"common", "erofs", "storage", "virtio", "oci", "nydusd_client"},
    "nydusd_client": {"common"},
    "snapshotter": {"common", "oci", "nydusd_client"},
    # snapshotter/ctrclient: containerd API client for `tesseractl pull`; not the snapshotter.
    "ctrclient": {"common", "oci"},
    # nydusd/client/cli: the tesseractl executable (nothing links it) may also pull into containerd.
    "tesseractl": {"common", "nydusd_client", "ctrclient"},
    "vmm": {"common", "virtio"},
    "runtime": {"common", "nydusd_client", "vmm_client"},
}
FOLDERS = {
    "common": "common", "erofs": "erofs", "oci": "oci", "storage": "storage", "virtio": "virtio",
    "builder": "builder", "nydusd": "nydusd", "snapshotter": "snapshotter", "vmm": "vmm-lite",
    "runtime": "runtime-integration",
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"tessera/([a-z_]+)/')


def component_of(path: pathlib.Path, root: pathlib.Path) -> str:
    rel = path.relative_to(root).parts
    if rel[:3] == ("nydusd", "client", "cli"):
        return "tesseractl"
    if rel[0] == "nydusd" and len(rel) > 1 and rel[1] == "client":
        return "nydusd_client"
    if rel[:2] == ("snapshotter", "ctrclient"):
        return "ctrclient"
    for comp, folder in FOLDERS.items():
        if rel[0] == folder:
            return comp
    return ""


def main() -> int:
    root = pathlib.Path(__file__).resolve().parent.parent
    bad = []
    checked = 0
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".cc", ".h") or "build" in path.relative_to(root).parts[0]:
            continue
        comp = component_of(path, root)
        if not comp:
            continue
        checked += 1
        for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if m and m.group(1) != comp and m.group(1) not in ALLOWED[comp]:
                bad.append(f"{path.relative_to(root)}:{lineno}: {comp} may not include tessera/{m.group(1)}/")
    for b in bad:
        print(b)
    print(f"check-layering: {checked} files, {len(bad)} forbidden includes")
    return 1 if bad or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
