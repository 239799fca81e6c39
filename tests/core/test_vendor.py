"""The vendored htmx files are exactly the published 4.0.1 ones (see .ci/vendor_htmx.sh)."""

import hashlib

from discussit.core.templating import HTMX, STATIC_DIR

# From the htmx.org@4.0.1 npm tarball (npm checked its dist.integrity); also in ../shared/stack.md.
PUBLISHED = {
    "htmx.min.js": "a0abb04f2f45a1f89d1d4844023245537e5e6014c87b144553e0607b4cc32130",
    "ext/hx-ws.min.js": "a7c11e4eca05417d6299bb40aaacca01572e44605389fc4d5ef12be408a4d03b",
    "ext/hx-sse.min.js": "18ef2761356ec1fe0bb6d92612315b37517a7c1e9856b661c5ae81fef239d103",
}


def test_sha256sums_lists_the_published_hashes():
    folder = STATIC_DIR / HTMX
    listed = dict(
        reversed(line.split()) for line in (folder / "SHA256SUMS").read_text().splitlines()
    )
    assert listed == PUBLISHED


def test_vendored_files_match_their_sha256sums():
    folder = STATIC_DIR / HTMX
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_pages_load_the_vendored_files(client):
    for name in PUBLISHED:
        response = client.get(f"/static/{HTMX}/{name}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            ("application/javascript", "text/javascript")
        )


def test_the_vendored_axe_core_matches_its_sum():
    """axe-core, which the browser tests run (.ci/vendor_axe.sh), is the published 4.14.1."""
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "browser/vendor/axe-core-4.14.1"
    digest, name = (folder / "SHA256SUMS").read_text().split()
    assert name == "axe.min.js"
    assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest


def test_the_web_app_manifest_and_icons_are_served(client):
    manifest = client.get("/static/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    for icon in manifest.json()["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon["src"]
