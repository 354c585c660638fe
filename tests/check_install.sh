#!/bin/sh
# `meson install --destdir` yields headers, library and a fortknox.pc that a
# program can build and link against with pkg-config alone.
# usage: check_install.sh BUILD_DIR CC
build=$1 cc=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "1..3"
if meson install -C "$build" --no-rebuild --destdir "$tmp/root" >"$tmp/log" 2>&1; then
  echo "ok 1 - meson install --destdir"
else
  echo "not ok 1 - meson install --destdir"; sed 's/^/# /' "$tmp/log"; exit 1
fi
pc=$(dirname "$(find "$tmp/root" -name fortknox.pc | head -n 1)")
export PKG_CONFIG_PATH="$pc"
prefix=$(pkg-config --variable=prefix fortknox)
pc_args="--define-variable=prefix=$tmp/root$prefix"
# shellcheck disable=SC2086
if flags=$(pkg-config $pc_args --cflags --libs fortknox); then
  echo "ok 2 - pkg-config finds fortknox"
else
  echo "not ok 2 - pkg-config finds fortknox"; exit 1
fi
cat > "$tmp/app.c" <<'C'
#include <fortknox.h>
#include <stdio.h>
int main(void) {
    if (fk_version_number() != FK_VERSION_NUMBER) return 1;
    printf("%s\n", fk_version_string());
    return 0;
}
C
libdir=$(pkg-config $pc_args --variable=libdir fortknox)
# shellcheck disable=SC2086
if $cc "$tmp/app.c" -o "$tmp/app" $flags 2>"$tmp/err" &&
   LD_LIBRARY_PATH="$libdir" "$tmp/app" >"$tmp/out" && [ -s "$tmp/out" ]; then
  echo "ok 3 - a program builds with pkg-config and runs against the installed library"
else
  echo "not ok 3 - a program builds with pkg-config and runs"; cat "$tmp/err" "$tmp/out" | sed "s/^/# /"; exit 1
fi
