#!/usr/bin/env bash
# Re-vendors htmx 4.0.1 (core + its own ws/sse extensions) from the npm registry and checks the sums.
# The output is committed: the app and its PaaS build need no Node.
set -euo pipefail
V=4.0.1; OUT=static/vendor/htmx-$V; tmp=$(mktemp -d)
npm pack "htmx.org@$V" --pack-destination "$tmp" >/dev/null   # npm checks dist.integrity
tar -xzf "$tmp/htmx.org-$V.tgz" -C "$tmp"
install -D -m644 "$tmp/package/dist/htmx.min.js"         "$OUT/htmx.min.js"
install -D -m644 "$tmp/package/dist/ext/hx-ws.min.js"    "$OUT/ext/hx-ws.min.js"
install -D -m644 "$tmp/package/dist/ext/hx-sse.min.js"   "$OUT/ext/hx-sse.min.js"
cat > "$OUT/SHA256SUMS" <<'SUMS'
a0abb04f2f45a1f89d1d4844023245537e5e6014c87b144553e0607b4cc32130  htmx.min.js
a7c11e4eca05417d6299bb40aaacca01572e44605389fc4d5ef12be408a4d03b  ext/hx-ws.min.js
18ef2761356ec1fe0bb6d92612315b37517a7c1e9856b661c5ae81fef239d103  ext/hx-sse.min.js
SUMS
(cd "$OUT" && sha256sum -c SHA256SUMS)
rm -rf "$tmp"
