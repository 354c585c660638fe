#!/bin/sh
# The exported ABI against the committed baseline (tests/abi/libfortknox.abi,
# made with abidw): additions are fine, anything incompatible fails.
# abidiff's status is a bit mask: 4 = the ABI changed, 8 = incompatibly.
# usage: check_abi.sh LIBRARY BASELINE
lib=$1 base=$2
echo "1..1"
if ! command -v abidiff >/dev/null 2>&1; then
  echo "not ok 1 - abidiff is not installed (Debian: abigail-tools)"; exit 1
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
abidw --no-corpus-path --out-file "$tmp/current.abi" "$lib" || { echo "not ok 1 - abidw failed"; exit 1; }
abidiff --no-added-syms "$base" "$tmp/current.abi" >"$tmp/diff" 2>&1
st=$?
if [ $((st & 8)) -ne 0 ] || [ $((st & 1)) -ne 0 ] || [ $((st & 2)) -ne 0 ]; then
  echo "not ok 1 - incompatible change against the released ABI (abidiff status $st)"
  sed 's/^/# /' "$tmp/diff"
  exit 1
fi
echo "ok 1 - ABI compatible with the baseline (abidiff status $st)"
