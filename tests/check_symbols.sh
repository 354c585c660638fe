#!/bin/sh
# The exported surface is exactly the symbol map, every name starts with fk_,
# and every function the headers declare is exported (and vice versa).
# usage: check_symbols.sh LIBRARY MAPFILE INCLUDE_DIR
lib=$1 map=$2 inc=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "1..4"
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u > "$tmp/exported"
sed -n '/global:/,/local:/p' "$map" | grep -o '\bfk_[a-z0-9_]*' | sort -u > "$tmp/mapped"
# FK_EXTERN declarations: the name before the first '(' on the declaration.
cat "$inc"/fortknox.h "$inc"/fortknox/*.h | perl -0777 -pe 's{/\*.*?\*/}{}gs; s{//[^\n]*}{}g' |
  tr '\n' ' ' | tr ';' '\n' | grep 'FK_EXTERN' |
  sed 's/(.*//' | grep -o '\bfk_[a-z0-9_]*$' | sort -u > "$tmp/declared"

status=0
bad=$(grep -v '^fk_' "$tmp/exported")
if [ -z "$bad" ]; then echo "ok 1 - only fk_ symbols exported"; else
  echo "not ok 1 - non-fk_ symbols exported"; echo "$bad" | sed 's/^/# /'; status=1; fi
d=$(comm -3 "$tmp/exported" "$tmp/mapped")
if [ -z "$d" ]; then echo "ok 2 - exported symbols equal the map"; else
  echo "not ok 2 - exported symbols differ from the map (left: only exported, right: only in map)"
  echo "$d" | sed 's/^/# /'; status=1; fi
d=$(comm -3 "$tmp/declared" "$tmp/mapped")
if [ -z "$d" ]; then echo "ok 3 - header declarations equal the map"; else
  echo "not ok 3 - header declarations differ from the map (left: only declared, right: only in map)"
  echo "$d" | sed 's/^/# /'; status=1; fi
if grep -q 'FORTKNOX_[0-9]' "$map" && [ -s "$tmp/exported" ]; then
  echo "ok 4 - symbols carry a version node"
else echo "not ok 4 - the map has no version node or nothing is exported"; status=1; fi
exit $status
