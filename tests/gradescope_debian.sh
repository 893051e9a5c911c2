#!/usr/bin/env bash
# The Gradescope bundle end to end on a machine it has never met: a fresh Debian root file system
# (debootstrap, Debian's own packages), in which the bundle's setup.sh builds the image (bubblewrap,
# Python 3.11, the pinned requirements) and run_autograder grades one solved and one hostile notebook.
#
#   sudo bash tests/gradescope_debian.sh [WORKDIR]      # 5-30 minutes (downloads), ~6 GB (the pins include torch)
#
# Run as root on Linux. Like Gradescope's Docker containers, the new root is entered with pivot_root (an
# outer bubblewrap run by root, no user namespace of its own), not chroot: the kernel refuses user
# namespaces to a chrooted process, and the grader's own sandbox needs one. SUITE (default bookworm)
# and MIRROR (default: debootstrap's) can be set in the environment. Not part of the test suite: too
# slow for CI; it prints PASS or FAIL and exits 0 or 1.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-/var/tmp/course-gradescope-debian}"
SUITE="${SUITE:-bookworm}"
ROOTFS="$WORK/rootfs"
PYTHON="${PYTHON:-python3}"

command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap; }
command -v bwrap >/dev/null || { apt-get update -qq && apt-get install -y -qq bubblewrap; }
if [ ! -x "$ROOTFS/bin/bash" ]; then
  mkdir -p "$WORK"
  # shellcheck disable=SC2086
  debootstrap --variant=minbase "$SUITE" "$ROOTFS" ${MIRROR:-}
fi

# The bundle, as an instructor builds it, unpacked where Gradescope puts it.
rm -rf "$ROOTFS/autograder"
mkdir -p "$ROOTFS/autograder/source" "$ROOTFS/autograder/submission" "$ROOTFS/autograder/results"
"$PYTHON" -m utils.grade autograder --out "$WORK/autograder.zip" --fast --exercises 1
"$PYTHON" - "$WORK/autograder.zip" "$ROOTFS/autograder/source" <<'EOF'
import sys, zipfile
from pathlib import Path
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        path = Path(z.extract(info, sys.argv[2]))
        path.chmod((info.external_attr >> 16) or 0o644)
EOF
cp solutions/01_overfit_a_model.ipynb "$ROOTFS/autograder/submission/01_overfit_a_model.ipynb"
cp tests/fixtures/hostile/01_overfit_a_model__fork_bomb.ipynb "$ROOTFS/autograder/submission/01_copy.ipynb"
touch -d '1 hour ago' "$ROOTFS/autograder/submission/01_copy.ipynb"  # the older one: not graded
echo '{"users": [{"email": "ada@example.org"}]}' > "$ROOTFS/autograder/submission_metadata.json"

EXTRA=()  # the host's pip cache, when it has one, saves downloading the pins again
if [ -d /root/.cache/pip ]; then mkdir -p "$ROOTFS/root/.cache/pip"; EXTRA+=(--bind /root/.cache/pip /root/.cache/pip); fi
# Behind a TLS-intercepting proxy the host names its CA bundle (SSL_CERT_FILE / PIP_CERT): the new root trusts it too.
CA="${PIP_CERT:-${SSL_CERT_FILE:-}}"
if [ -n "$CA" ] && [ -f "$CA" ]; then
  mkdir -p "$ROOTFS$(dirname "$CA")" && touch "$ROOTFS$CA"
  EXTRA+=(--ro-bind "$CA" "$CA" --setenv PIP_CERT "$CA" --setenv SSL_CERT_FILE "$CA" --setenv REQUESTS_CA_BUNDLE "$CA")
fi
# PROC=masked gives the new root a /proc with read-only parts mounted over it, as Docker's default
# does: the kernel then refuses a sandbox its own /proc, so the probe fails and every result says
# "not graded" (what a Gradescope container that masks /proc would show). PROC=host (the default)
# shares this machine's /proc, as a container with unmasked system paths does.
if [ "${PROC:-host}" = masked ]; then PROCFS=(--unshare-pid --proc /proc); else PROCFS=(--bind /proc /proc); fi
enter() {
  bwrap --bind "$ROOTFS" / "${EXTRA[@]}" --dev /dev "${PROCFS[@]}" --bind /sys /sys \
    --ro-bind /etc/resolv.conf /etc/resolv.conf --perms 1777 --tmpfs /tmp --unshare-uts \
    --die-with-parent \
    --setenv PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --setenv HOME /root -- "$@"
}

echo "== setup.sh (image build)"
enter bash /autograder/source/setup.sh
echo "== sandbox probe at build time"
cat "$ROOTFS/autograder/source/sandbox_probe.json" || true
echo "== run_autograder"
enter bash /autograder/source/run_autograder || true
echo "== results.json"
cat "$ROOTFS/autograder/results/results.json"
"$PYTHON" - "$ROOTFS/autograder/results/results.json" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))
extra = results.get("extra_data", {})
ok = (results.get("score") == 4 and extra.get("protections", {}).get("sandbox") == "bubblewrap"
      and extra.get("duplicates", [{}])[0].get("graded") == "01_overfit_a_model.ipynb")
print("PASS" if ok else "FAIL", "score", results.get("score"), "protections", extra.get("protections"),
      "missing:", extra.get("warning"))
sys.exit(0 if ok else 1)
EOF
