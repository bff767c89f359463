#!/usr/bin/env bash
# Compiles the shim's C files and the supported Linux drivers with the flags in
# ../cflags (as the image builder does), then checks with nm that every symbol
# the objects leave undefined is one that DDEKit, the host or the Rust side of
# the task provides.
#
#   tools/build-check.sh [LINUX_DRIVERS_DIR]
#
# LINUX_DRIVERS_DIR defaults to /tmp/linux/linux-source-6.1/drivers/net/ethernet.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
src="${1:-/tmp/linux/linux-source-6.1/drivers/net/ethernet}"
out="${OUT:-$(mktemp -d)}"
mkdir -p "$out"

mapfile -t flags < <(grep -v '^\s*\(#\|$\)' "$here/cflags")
inc=(-I "$here/include" -I "$root/ddekit/include")
CC="${CC:-gcc}"
status=0

compile() { # name srcdir file...
    local name="$1" dir="$2"
    shift 2
    for f in "$@"; do
        local base
        base="$(basename "$f" .c)"
        if ! "$CC" "${flags[@]}" "${inc[@]}" -I "$dir" \
            -DKBUILD_MODNAME="\"$name\"" -DKBUILD_BASENAME="\"$base\"" \
            -c "$dir/$f" -o "$out/$name-$base.o"; then
            status=1
        fi
    done
}

echo "== shim"
for f in "$here"/csrc/*.c; do
    base="$(basename "$f" .c)"
    "$CC" "${flags[@]}" "${inc[@]}" -DKBUILD_MODNAME='"dde_linux"' -DKBUILD_BASENAME="\"$base\"" \
        -c "$f" -o "$out/shim-$base.o" || status=1
done

echo "== drivers"
compile ne2k_pci "$src/8390" ne2k-pci.c 8390.c
compile 8139cp "$src/realtek" 8139cp.c
compile e1000 "$src/intel/e1000" e1000_main.c e1000_hw.c e1000_ethtool.c e1000_param.c
compile pcnet32 "$src/amd" pcnet32.c

[ "$status" -eq 0 ] || { echo "compile errors"; exit 1; }

# Symbols the rest of the task provides.
allowed="$out/allowed.txt"
{
    grep -oE '\bddekit_[a-z0-9_]+\s*\(' "$root/ddekit/include/ddekit.h" | tr -d ' ('
    grep -oE '\bresurgo_[a-z0-9_]+\s*\(' "$here/include/resurgo/host.h" | tr -d ' ('
    # memory functions from the Rust side; section bounds the final link defines
    printf '%s\n' memcpy memset memmove memcmp __start_dde_linux_exitcalls __stop_dde_linux_exitcalls
} | sort -u >"$allowed"

echo "== link check"
for drv in ne2k_pci 8139cp e1000 pcnet32; do
    ld -r -o "$out/linked-$drv.o" "$out"/$drv-*.o "$out"/shim-*.o
    undef="$(nm -u "$out/linked-$drv.o" | awk '{print $2}' | sort -u)"
    bad="$(comm -23 <(echo "$undef") "$allowed" | grep -v '^$' || true)"
    if [ -n "$bad" ]; then
        echo "$drv: unexpected undefined symbols:"
        echo "$bad" | sed 's/^/    /'
        status=1
    else
        echo "$drv: OK ($(echo "$undef" | grep -c .) undefined, all provided by ddekit/host/Rust)"
    fi
done
exit "$status"
