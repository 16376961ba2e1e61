#!/usr/bin/python3
"""Disk full while nodeimg writes a kubelet file (tests/fault, docs/RELIABILITY.md).

A platform fixture is copied onto a tiny tmpfs of its own (root only), the rest of the
filesystem is filled, and `nodeimg --root R kubelet apply` runs: it must exit 1 with an
error that says the disk is full, every original file must be intact (content, mode) and
no temporary file may be left anywhere. Then space is freed and the same apply completes.
Also: the filesystem filled to within a few bytes of full, at every size from 0 to 8 KiB
free in 1 KiB steps, so that the write fails at different points (data, fsync,
rename, the apply record).

  disk_full.py NODEIMG FIXTURES
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile


def tree(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            if os.path.islink(p):  # the fixtures' enable links point at the node's absolute paths
                out[os.path.relpath(p, root)] = ("link", os.readlink(p))
                continue
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = (oct(os.stat(p).st_mode), hashlib.sha256(fh.read()).hexdigest())
    return out


def fill(mnt, leave):
    """Fills the filesystem at mnt until at most `leave` bytes are free; returns the filler path."""
    path = os.path.join(mnt, "filler")
    st = os.statvfs(mnt)
    free = st.f_bavail * st.f_frsize
    with open(path, "wb") as fh:
        try:
            fh.write(b"\0" * max(0, free - leave))
            fh.flush()
            os.fsync(fh.fileno())
            while True:
                st = os.statvfs(mnt)
                if st.f_bavail * st.f_frsize <= leave:
                    break
                fh.write(b"\0" * min(4096, st.f_bavail * st.f_frsize - leave))
                fh.flush()
        except OSError:
            pass
    return path


def one_case(nodeimg, root, mnt, leave, layout):
    """One apply on a filesystem left with `leave` bytes: 1 if it failed cleanly, 0 if it had room."""
    before = tree(root)
    filler = fill(mnt, leave)
    r = subprocess.run([nodeimg, "--root", root, "kubelet", "apply", "--defaults"], capture_output=True, text=True, timeout=60)
    os.unlink(filler)
    kept = {k: v for k, v in before.items() if not k.startswith("var/lib/nodeimg/")}
    after = {k: v for k, v in tree(root).items() if not k.startswith("var/lib/nodeimg/")}
    where = f"{layout}, {leave} bytes free"
    if r.returncode == 0:  # enough room after all (tmpfs rounds to pages)
        return 0
    if r.returncode != 1:
        raise SystemExit(f"disk_full: FAILED: {where}: exit {r.returncode}: {r.stderr}")
    if "space" not in r.stderr.lower():
        raise SystemExit(f"disk_full: FAILED: {where}: the error does not say the disk is full: {r.stderr.strip()}")
    if after != kept:
        diff = sorted(k for k in set(after) | set(kept) if after.get(k) != kept.get(k))
        raise SystemExit(f"disk_full: FAILED: {where}: files changed or left behind: {diff}")
    r2 = subprocess.run([nodeimg, "--root", root, "kubelet", "apply", "--defaults"], capture_output=True, text=True)
    if r2.returncode != 0:
        raise SystemExit(f"disk_full: FAILED: {where}: apply after freeing space: {r2.stderr}")
    if leave == 0:
        print(f"disk_full: {layout}, full: exit 1: {r.stderr.strip().splitlines()[0][:200]}")
    return 1


def main():
    nodeimg, fixtures = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        print("disk_full: needs root (mounts a tmpfs); skipped", file=sys.stderr)
        sys.exit(77)
    base = tempfile.mkdtemp(prefix="nodeimg-fault-full-")
    cases = 0
    # (platform, directory on the tiny filesystem): the whole root (the backup in nodeimg's
    # state fails first), or only the directory of the kubelet file nodeimg edits (the
    # backup succeeds; writing the kubelet file itself fails).
    layouts = [("kubeadm", ""), ("eks-al2023-dropin", ""),
               ("kubeadm", "var/lib/kubelet"), ("eks-al2023-dropin", "etc/kubernetes/kubelet/config.json.d")]
    try:
        for platform, tiny in layouts:
            for leave in range(0, 8193, 1024):
                root = os.path.join(base, "root")
                shutil.copytree(os.path.join(fixtures, "platforms", platform, "root"), root, symlinks=True)
                mnt = os.path.join(root, tiny) if tiny else os.path.join(base, "fs")
                saved = None
                if tiny:
                    saved = os.path.join(base, "saved")
                    shutil.copytree(mnt, saved, symlinks=True)
                    shutil.rmtree(mnt)
                os.makedirs(mnt, exist_ok=True)
                subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", mnt], check=True)
                try:
                    if tiny:
                        shutil.copytree(saved, mnt, symlinks=True, dirs_exist_ok=True)
                        shutil.rmtree(saved)
                    else:
                        shutil.copytree(os.path.join(fixtures, "platforms", platform, "root"), os.path.join(mnt, "r"),
                                        symlinks=True)
                        shutil.rmtree(root)
                        root_run = os.path.join(mnt, "r")
                    run_root = root if tiny else root_run
                    cases += one_case(nodeimg, run_root, mnt, leave, f"{platform}, {tiny or 'whole root'}")
                finally:
                    subprocess.run(["umount", mnt], check=False)
                shutil.rmtree(root, ignore_errors=True)
                shutil.rmtree(os.path.join(base, "fs"), ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"disk_full: {cases} runs failed for want of space with a clear error, originals intact, "
          f"no file left behind, and completed once space was freed")


if __name__ == "__main__":
    main()
