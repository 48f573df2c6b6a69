#!/usr/bin/env bash
# The cfs CI step: image archive -> cfs build --json -> cfs verify --expect -> publish the manifest digest.
# Run as is by the GitHub action (action.yml), the GitLab template (ci/gitlab/cfs.gitlab-ci.yml) and the
# end-to-end test; docs/ci.md explains it and its exit codes.
#
#   CFS_IMAGE       image to build (or $1): docker save / podman save / skopeo output, oci-archive, OCI layout
#   CFS_STORE       object store (default: cfs's own, ~/.local/share/cfs)
#   CFS_EXPECT      pinned manifest digest sha256:… the build must reproduce (default: the one cfs build reports)
#   CFS_OUT_DIR     where image.cfsm, build.json, verify.json, digest and cfs.env go (default: cfs-out)
#   CFS_BUILD_ARGS  extra cfs build arguments, split on spaces (e.g. --platform linux/arm64)
#   CFS_BIN         the cfs command (default: cfs on PATH, else packages/cli/bin/cfs.js of this checkout)
#
# Exit status: that of the cfs command that failed (docs/cli.md), 2 for bad settings here, 5 when the results
# cannot be written. The digest is published to stdout, $CFS_OUT_DIR/digest, $CFS_OUT_DIR/cfs.env (CFS_DIGEST=,
# a GitLab dotenv report) and, on GitHub, the step outputs `digest` and `manifest`.
set -uo pipefail
set -f   # CFS_BUILD_ARGS such as --exclude 'var/cache/*' must reach cfs unexpanded

image=${1:-${CFS_IMAGE:-}}
out=${CFS_OUT_DIR:-cfs-out}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cfs=${CFS_BIN:-}
if [ -z "$cfs" ]; then
  if command -v cfs >/dev/null 2>&1; then cfs=cfs; else cfs="$here/../packages/cli/bin/cfs.js"; fi
fi

meaning () {
  case $1 in
    1) echo 'a bug in cfs' ;; 2) echo 'bad flags or arguments' ;; 3) echo 'malformed input' ;;
    4) echo 'something missing' ;; 5) echo 'the system refused' ;; 6) echo 'a mismatch' ;; *) echo 'unexpected status' ;;
  esac
}

# fail STEP CODE: one line on stderr (and a GitHub annotation), then exit with the step's code.
fail () {
  local msg="cfs-pipeline: $1 failed with exit $2 ($(meaning "$2"))"
  echo "$msg" >&2
  if [ "${GITHUB_ACTIONS:-}" = true ]; then echo "::error title=cfs $1::$msg"; fi
  exit "$2"
}

if [ -z "$image" ]; then echo 'cfs-pipeline: no image: set CFS_IMAGE or pass the archive as $1' >&2; exit 2; fi
mkdir -p "$out" || fail 'setup' 5

# 1. build: objects into the store, the manifest to $out/image.cfsm, the report (with the digest) to build.json
# shellcheck disable=SC2086  # CFS_BUILD_ARGS is a list of arguments
"$cfs" build "$image" -o "$out/image.cfsm" --json ${CFS_BUILD_ARGS:-} >"$out/build.json"
code=$?; [ $code -eq 0 ] || fail build $code
digest=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).digest)' "$out/build.json")
case $digest in sha256:*) ;; *) echo "cfs-pipeline: no digest in $out/build.json" >&2; exit 1 ;; esac

# 2. verify: the manifest is the pinned (or just built) one, and every object it uses is in the store, intact
"$cfs" verify "$out/image.cfsm" --expect "${CFS_EXPECT:-$digest}" --json >"$out/verify.json"
code=$?; [ $code -eq 0 ] || fail verify $code

# 3. publish
{ echo "$digest" >"$out/digest" && echo "CFS_DIGEST=$digest" >"$out/cfs.env"; } || fail publish 5
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "digest=$digest"; echo "manifest=$out/image.cfsm"; } >>"$GITHUB_OUTPUT" || fail publish 5
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  echo "cfs: \`$image\` → manifest \`$digest\` (built and verified)" >>"$GITHUB_STEP_SUMMARY" || fail publish 5
fi
echo "$digest"
