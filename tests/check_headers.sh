#!/bin/sh
# Each public header must compile on its own as strict C99 and as C++, so that
# users are free of our build's -std and PHP FFI can read plain declarations.
# usage: check_headers.sh INCLUDE_DIR CC [CC ARGS...]
inc=$1; shift
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
headers=$(cd "$inc" && ls fortknox.h fortknox/*.h)
n=0; for h in $headers; do n=$((n + 2)); done
echo "1..$n"
i=0; status=0
cxx=$(command -v c++ || command -v g++ || command -v clang++)
for h in $headers; do
  printf '#include <%s>\n#include <%s>\nint fk_header_check_dummy;\n' "$h" "$h" > "$tmp/t.c"
  i=$((i + 1))
  if "$@" -std=c99 -pedantic -Wall -Wextra -Werror -I"$inc" -c "$tmp/t.c" -o "$tmp/t.o" 2>"$tmp/err"; then
    echo "ok $i - $h compiles alone as C99 -pedantic"
  else
    echo "not ok $i - $h compiles alone as C99 -pedantic"; sed 's/^/# /' "$tmp/err"; status=1
  fi
  i=$((i + 1))
  cp "$tmp/t.c" "$tmp/t.cc"
  if [ -z "$cxx" ]; then
    echo "not ok $i - $h from C++ # no C++ compiler found"; status=1
  elif "$cxx" -std=c++11 -pedantic -Wall -Wextra -Werror -I"$inc" -c "$tmp/t.cc" -o "$tmp/t.o" 2>"$tmp/err"; then
    echo "ok $i - $h compiles from C++"
  else
    echo "not ok $i - $h compiles from C++"; sed 's/^/# /' "$tmp/err"; status=1
  fi
done
exit $status
