#!/bin/sh
# Makes a docker-archive of two uncompressed layers from trees on this machine, for `cfs bench`:
#   layer 1: /usr/share (man pages, locales, docs: many small files)
#   layer 2: a node_modules tree (pnpm's layout: symlinks into .pnpm), the repo's by default
# Usage: scripts/make-bench-image.sh OUT.tar [NODE_MODULES_DIR]
set -eu
out=$1
nm=${2:-$(cd "$(dirname "$0")/.." && pwd)/node_modules}
work=$(mktemp -d "${TMPDIR:-/tmp}/cfs-bench-image-XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -cf "$work/l1.tar" --numeric-owner --xattrs -C / usr/share
tar -cf "$work/l2.tar" --numeric-owner --xattrs -C "$(dirname "$nm")" --transform 's,^,app/,' "$(basename "$nm")"
d1=$(sha256sum "$work/l1.tar" | cut -d' ' -f1)
d2=$(sha256sum "$work/l2.tar" | cut -d' ' -f1)
mkdir "$work/a" "$work/a/$d1" "$work/a/$d2"
mv "$work/l1.tar" "$work/a/$d1/layer.tar"
mv "$work/l2.tar" "$work/a/$d2/layer.tar"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' "$d1" "$d2" > "$work/config.json"
c=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/a/$c.json"
printf '[{"Config":"%s.json","RepoTags":["cfs-bench:latest"],"Layers":["%s/layer.tar","%s/layer.tar"]}]' "$c" "$d1" "$d2" > "$work/a/manifest.json"
tar -cf "$out" -C "$work/a" .
