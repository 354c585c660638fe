#!/bin/sh
# `meson install --destdir` yields headers, library and a fortknox.pc that a
# program can build and link against with pkg-config alone -- and nothing else
# but the fortknox tool and its man page (no examples, no test programs).
# usage: check_install.sh BUILD_DIR CC SOURCE_DIR
build=$1 cc=$2 src=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "1..4"
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

# Every installed file, relative to the prefix, with the library directory
# (lib/<triplet>/ on Debian) as LIBDIR/: exactly the expected list.
root=$tmp/root$prefix
rel_libdir=${libdir#"$root"/}
soversion_files=$(cd "$root/$rel_libdir" && ls libfortknox.so*)
{
  echo bin/fortknox
  echo include/fortknox.h
  (cd "$src/include" && ls fortknox/*.h) | sed 's|^|include/|'
  for f in $soversion_files; do echo "LIBDIR/$f"; done
  echo LIBDIR/pkgconfig/fortknox.pc
  echo share/man/man1/fortknox.1
} | LC_ALL=C sort >"$tmp/expected"
(cd "$root" && find . ! -type d | sed 's|^\./||') | sed "s|^$rel_libdir/|LIBDIR/|" |
  LC_ALL=C sort >"$tmp/installed"
case $soversion_files in *libfortknox.so.*) ok=1 ;; *) ok=0 ;; esac
if [ "$ok" = 1 ] && diff -u "$tmp/expected" "$tmp/installed" >"$tmp/diff"; then
  echo "ok 4 - meson install installs the library, headers, fortknox.pc, the tool and its man page only"
else
  echo "not ok 4 - meson install installs something else (- expected, + installed)"
  sed 's/^/# /' "$tmp/diff"; exit 1
fi
