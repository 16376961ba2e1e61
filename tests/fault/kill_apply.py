#!/usr/bin/python3
"""SIGKILL `nodeimg kubelet apply --root` at random points (tests/fault, docs/RELIABILITY.md).

For each trial: a fresh copy of a platform fixture, `kubelet apply` started, SIGKILL after a
random delay within the measured duration of an apply, then:
  - every file nodeimg manages is the complete old or the complete new content (never torn,
    never missing when it existed before; a new drop-in is absent or complete);
  - no other file appeared in a directory kubelet reads (no temporary file left there);
  - the next `apply` completes (exit 0) and leaves exactly the expected files;
  - `revert` then completes and restores every original file.
Then SIGKILL during `kubelet revert` (after applying 200 then 300; FAULT_TRIALS/4 trials):
  - every managed file is complete: the 300 version or the original (never torn);
  - the next `revert` completes (exit 0), every original file is back, and no backup is
    left in nodeimg's state directory.
Prints counts; exits 1 on the first violated property (keeping the trial's directory).

  kill_apply.py NODEIMG FIXTURES [TRIALS]      default 200 trials
"""
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PLATFORMS = ["kubeadm", "eks-al2023-dropin", "gke", "k3s", "aks"]
# nodeimg's temporary files (HostFiles::write_atomic): hidden, and ending in .tmp, so that
# kubelet never reads one (it reads its config file by name and *.conf in drop-in dirs).
TEMP = re.compile(r"^\..+\.nodeimg-[0-9a-f]+\.tmp$")


def is_temp(path):
    return TEMP.match(os.path.basename(path)) is not None


def tree(root):
    """Every regular file and symlink under root: relative path -> sha256 (or link target)."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "link:" + os.readlink(p)
            else:
                with open(p, "rb") as fh:
                    out[rel] = hashlib.sha256(fh.read()).hexdigest()
    return out


def run(nodeimg, root, *args):
    return subprocess.run([nodeimg, "--root", root, "kubelet", *args], capture_output=True, text=True)


def want(root, n):
    path = os.path.join(root, "etc/nodeimg/config.yaml")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(f"kubelet:\n  nodeStatusMaxImages: {n}\n")


def kill_revert(nodeimg, ref, base, trials, rng):
    """SIGKILL during a full revert of two applies; the next revert must finish the job."""
    for trial in range(trials):
        name = rng.choice(sorted(ref))
        src, old, _, _, took = ref[name]
        work = os.path.join(base, f"r{trial}")
        shutil.copytree(src, work, symlinks=True)
        for n in (200, 300):
            want(work, n)
            if run(nodeimg, work, "apply").returncode != 0:
                fail(f"{name} revert trial {trial}: apply {n} failed", work)
        os.remove(os.path.join(work, "etc/nodeimg/config.yaml"))
        applied = {k: v for k, v in tree(work).items() if not k.startswith("var/lib/nodeimg/")}
        delay = rng.uniform(0, took * 1.2)
        p = subprocess.Popen([nodeimg, "--root", work, "kubelet", "revert"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        now = {k: v for k, v in tree(work).items() if not k.startswith("var/lib/nodeimg/") and not is_temp(k)}
        for path in set(old) | set(applied):
            if now.get(path) not in (old.get(path), applied.get(path)):
                fail(f"{name} revert trial {trial}: {path} is neither original nor applied after SIGKILL "
                     f"at {delay*1000:.2f} ms", work)
        r = run(nodeimg, work, "revert")
        if r.returncode != 0:
            fail(f"{name} revert trial {trial}: the revert after the interrupted one failed: {r.stderr.strip()}", work)
        after = {k: v for k, v in tree(work).items() if not is_temp(k)}
        left = sorted(k for k in after if k.startswith("var/lib/nodeimg/kubelet/"))
        after = {k: v for k, v in after.items() if not k.startswith("var/lib/nodeimg/")}
        if after != old:
            diff = sorted(k for k in set(after) | set(old) if after.get(k) != old.get(k))
            fail(f"{name} revert trial {trial}: the originals are not back: {diff}", work)
        if left:
            fail(f"{name} revert trial {trial}: state left after the revert: {left}", work)
        shutil.rmtree(work)
    print(f"kill_apply: {trials} revert trials killed at random points; the next revert always restored the "
          f"originals and left no backup")


def fail(msg, work):
    print(f"kill_apply: FAILED: {msg} (kept {work})", file=sys.stderr)
    sys.exit(1)


def main():
    nodeimg, fixtures = sys.argv[1], sys.argv[2]
    trials = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    rng = random.Random(int(os.environ.get("FAULT_SEED", "0")) or None)
    base = tempfile.mkdtemp(prefix="nodeimg-fault-kill-")
    counts = {"old": 0, "new": 0, "partial": 0, "temp_left": 0, "temp_after_next": 0}
    # Per platform: the original tree, the tree after a clean apply, and an apply's duration.
    ref = {}
    for name in PLATFORMS:
        src = os.path.join(fixtures, "platforms", name, "root")
        if not os.path.isdir(src):
            continue
        d = os.path.join(base, "ref-" + name)
        shutil.copytree(src, d, symlinks=True)
        old = tree(d)
        t0 = time.monotonic()
        r = run(nodeimg, d, "apply", "--defaults")
        took = time.monotonic() - t0
        if r.returncode != 0:
            fail(f"{name}: a clean apply failed: {r.stderr.strip()}", base)
        new = {k: v for k, v in tree(d).items() if not k.startswith("var/lib/nodeimg/")}
        managed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
        ref[name] = (src, old, new, managed, took)
        shutil.rmtree(d)
    if not ref:
        fail("no platform fixture found", base)
    durations = sorted(v[4] for v in ref.values())
    print(f"kill_apply: {len(ref)} platforms; a clean apply takes {durations[0]*1000:.1f}-{durations[-1]*1000:.1f} ms")

    for trial in range(trials):
        name = rng.choice(sorted(ref))
        src, old, new, managed, took = ref[name]
        work = os.path.join(base, f"t{trial}")
        shutil.copytree(src, work, symlinks=True)
        delay = rng.uniform(0, took * 1.2)
        p = subprocess.Popen([nodeimg, "--root", work, "kubelet", "apply", "--defaults"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        now = tree(work)
        state = {"old": 0, "new": 0}
        for path in managed:
            have = now.get(path)
            if have == old.get(path):
                state["old"] += 1
            elif have == new.get(path):
                state["new"] += 1
            else:
                fail(f"{name} trial {trial}: {path} is neither the old nor the new content "
                     f"({'missing' if have is None else 'torn'}) after SIGKILL at {delay*1000:.2f} ms", work)
        # Nothing else changed or appeared outside nodeimg's own state directory, except a
        # temporary file named so that kubelet ignores it (counted).
        temps = [p for p in now if is_temp(p) and p not in old]
        counts["temp_left"] += 1 if temps else 0
        for path, digest in now.items():
            if path.startswith("var/lib/nodeimg/") or path in managed or path in temps:
                continue
            if old.get(path) != digest:
                fail(f"{name} trial {trial}: unexpected file {path} after SIGKILL at {delay*1000:.2f} ms", work)
        for path in old:
            if path not in now:
                fail(f"{name} trial {trial}: {path} disappeared", work)
        counts["old" if state["new"] == 0 else "new" if state["old"] == 0 else "partial"] += 1
        r = run(nodeimg, work, "apply", "--defaults")
        if r.returncode != 0:
            fail(f"{name} trial {trial}: the next apply failed: {r.stderr.strip()}", work)
        after = {k: v for k, v in tree(work).items() if not k.startswith("var/lib/nodeimg/")}
        if any(is_temp(k) for k in after):
            counts["temp_after_next"] += 1
        after = {k: v for k, v in after.items() if not is_temp(k)}
        if after != new:
            fail(f"{name} trial {trial}: the next apply left files other than a clean apply's", work)
        r = run(nodeimg, work, "revert")
        if r.returncode != 0:
            fail(f"{name} trial {trial}: revert after the interrupted apply failed: {r.stderr.strip()}", work)
        reverted = {k: v for k, v in tree(work).items() if not k.startswith("var/lib/nodeimg/") and not is_temp(k)}
        if reverted != old:
            diff = sorted(k for k in set(reverted) | set(old) if reverted.get(k) != old.get(k))
            fail(f"{name} trial {trial}: revert did not restore the originals: {diff}", work)
        shutil.rmtree(work)
    kill_revert(nodeimg, ref, base, max(1, trials // 4), rng)
    shutil.rmtree(base)
    print(f"kill_apply: {trials} trials: killed before any write {counts['old']}, after all writes {counts['new']}, "
          f"between files {counts['partial']}; every file complete, next apply and revert fine; "
          f"{counts['temp_left']} left a temporary file kubelet ignores (hidden, .tmp), "
          f"{counts['temp_after_next']} still there after the next apply")


if __name__ == "__main__":
    main()
