#!/usr/bin/env bash
# Re-vendors axe-core 4.14.1 (the accessibility checker the browser tests run) from the npm registry
# and checks the sum. The output is committed under tests/: nothing the app serves.
set -euo pipefail
V=4.14.1; OUT=tests/browser/vendor/axe-core-$V; tmp=$(mktemp -d)
npm pack "axe-core@$V" --pack-destination "$tmp" >/dev/null   # npm checks dist.integrity
tar -xzf "$tmp/axe-core-$V.tgz" -C "$tmp"
install -D -m644 "$tmp/package/axe.min.js" "$OUT/axe.min.js"
install -D -m644 "$tmp/package/LICENSE"    "$OUT/LICENSE"
cat > "$OUT/SHA256SUMS" <<'SUMS'
29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c  axe.min.js
SUMS
(cd "$OUT" && sha256sum -c SHA256SUMS)
rm -rf "$tmp"
