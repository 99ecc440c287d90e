#!/usr/bin/env bash
# Builds the web app's device core (crates/web-app) to WebAssembly, with its JavaScript glue,
# into crates/web-app/www/pkg/, which is committed: `splitid serve` embeds it, so that the
# service builds and serves the app on a machine without this toolchain.
#
#   scripts/build-web-app.sh            rebuild www/pkg/
#   scripts/build-web-app.sh --check    rebuild elsewhere and compare byte for byte with the
#                                       committed www/pkg/ (what CI runs)
#
# The toolchain: the rustup toolchains here have no wasm32 target and cannot download one, so
# the build uses Debian's rustc-web/cargo-web (/usr/bin/rustc, /usr/bin/cargo) with
# rust-web-src (the standard library's sources, built here with -Zbuild-std) and lld-22's
# wasm-ld. The glue comes from tools/wasm-bindgen (wasm-bindgen's own generator library, the
# exact version of the wasm-bindgen crate), built with the ordinary toolchain.
#
# Reproducible: paths are remapped, one codegen unit, no producers section; the output depends
# on the compiler's version, which is recorded in www/pkg/TOOLCHAIN. When the installed
# compiler differs from the recorded one, --check cannot expect the same bytes: it says so
# and the service goes on embedding (and the tests using) the committed build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
check=false
[ "${1:-}" = "--check" ] && check=true

for tool in /usr/bin/rustc /usr/bin/cargo wasm-ld-22; do
    command -v "$tool" >/dev/null 2>&1 \
        || { echo "missing $tool: apt-get install rustc-web cargo-web rust-web-src lld-22" >&2; exit 1; }
done
[ -d /usr/lib/rustlib/src/rust/library ] \
    || { echo "missing the standard library's sources: apt-get install rust-web-src" >&2; exit 1; }

target=${WEB_APP_TARGET_DIR:-$root/target/web-app}
committed=crates/web-app/www/pkg
if $check; then
    out=${WEB_APP_OUT:-$target/pkg}
else
    out=$committed
fi
cargo_home=${CARGO_HOME:-$HOME/.cargo}

echo "== the device core in WebAssembly ($(/usr/bin/rustc --version))"
RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22 \
CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_LTO=true \
CARGO_PROFILE_RELEASE_PANIC=abort CARGO_PROFILE_RELEASE_DEBUG=false \
RUSTFLAGS="--cfg getrandom_backend=\"wasm_js\" --cfg cpubits=\"32\" \
--remap-path-prefix=$root=/splitid --remap-path-prefix=$cargo_home=/cargo \
--remap-path-prefix=/usr/lib/rustlib/src/rust=/rust" \
    /usr/bin/cargo build -Zbuild-std=std,panic_abort --target wasm32-unknown-unknown \
    --release --locked -p splitid-web-app --target-dir "$target"

echo "== the JavaScript glue (tools/wasm-bindgen)"
(cd tools/wasm-bindgen && cargo build --release --locked --quiet --target-dir "$target/tools")
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
"$target/tools/release/splitid-wasm-bindgen" \
    "$target/wasm32-unknown-unknown/release/splitid_web_app.wasm" "$out.tmp"
/usr/bin/rustc --version >"$out.tmp/TOOLCHAIN"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "wrote $out: $(du -sh "$out" | cut -f1), wasm $(gzip -9c "$out/splitid_web_app_bg.wasm" | wc -c) bytes gzipped"

if $check; then
    if ! cmp -s "$out/TOOLCHAIN" "$committed/TOOLCHAIN"; then
        echo "note: $committed was built with $(cat "$committed/TOOLCHAIN"), this machine has" \
            "$(cat "$out/TOOLCHAIN"): not comparing bytes; the service embeds the committed build" >&2
        exit 0
    fi
    diff -r "$committed" "$out" >/dev/null \
        || { echo "$committed is not what its sources build: run scripts/build-web-app.sh and commit" >&2
             diff -rq "$committed" "$out" >&2; exit 1; }
    echo "ok: $committed is exactly what its sources build"
fi
