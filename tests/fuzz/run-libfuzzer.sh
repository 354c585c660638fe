#!/bin/sh
# Real fuzzing of the targets in tests/fuzz: builds each with clang, libFuzzer,
# AddressSanitizer (leak checking included) and UndefinedBehaviorSanitizer
# (-fno-sanitize-recover=all: any finding stops the run), compiling the
# library sources directly with the same flags, then runs each target for a
# number of seconds over its seed corpus.
#
#   tests/fuzz/run-libfuzzer.sh [SECONDS] [TARGET...]
#
#   SECONDS  per target (default 600, the issue's target)
#   TARGET   json_pretty json_scan json_scalar registry slug manifest
#            audit_event; default: all of them
#
# Environment: CC (default clang; Debian 12: apt-get install clang
# libclang-rt-14-dev), JOBS (targets run at once, default 2), OUT (default
# <repo>/build-libfuzzer), FUZZ_FLAGS (extra libFuzzer flags), EXTRA_CFLAGS
# (extra compiler flags for the targets, e.g. -DFUZZ_AUDIT_KNOWN_OOM_MISREPORT).
#
# Results in $OUT: <target>.log (libFuzzer's output), corpus/<target>/ (what
# the run added to the seeds; the seed directories are never written),
# crashes/<target>/ (crash-*, leak-*, timeout-*, oom-* inputs) and
# summary.txt. Exit status 1 when any target found something.
#
# Reproduce a finding: $OUT/bin/fuzz_<target> <the crash file>, or with the
# gcc build: build/tests/fuzz/fuzz_<target> <the crash file>.
#
#   tests/fuzz/run-libfuzzer.sh --coverage [TARGET...]
#
# measures instead which lines of the fuzzed sources the seeds plus the
# corpus grown by the last run reach (clang source-based coverage, targets
# linked with driver.c): $OUT/coverage.txt. Needs llvm-profdata and llvm-cov
# of clang's version (LLVM_PROFDATA, LLVM_COV).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
OUT=${OUT:-$root/build-libfuzzer}
CC=${CC:-clang}
JOBS=${JOBS:-2}
FUZZ_FLAGS=${FUZZ_FLAGS:-}
export OUT CC FUZZ_FLAGS

# seed directories and dictionary per target (keep in step with meson.build)
seeds() {
    c=$here/corpus
    case $1 in
    json_pretty | json_scan) echo "$c/json" ;;
    json_scalar) echo "$c/json_scalar $c/json" ;;
    registry) echo "$c/registry" ;;
    slug) echo "$c/slug" ;;
    manifest) echo "$c/manifest" ;;
    audit_event) echo "$c/audit_event" ;;
    *) echo "unknown target $1" >&2; exit 2 ;;
    esac
}
dict() {
    case $1 in
    slug) ;;
    manifest) echo "-dict=$here/manifest.dict" ;;
    *) echo "-dict=$here/json.dict" ;;
    esac
}

# ---------------------------------------------------------------- one run
if [ "${1:-}" = "--run-one" ]; then
    t=$2
    secs=$3
    mkdir -p "$OUT/corpus/$t" "$OUT/crashes/$t"
    start=$(date +%s)
    rc=0
    # shellcheck disable=SC2046,SC2086
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$OUT/bin/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$OUT/crashes/$t/" $(dict "$t") $FUZZ_FLAGS \
        "$OUT/corpus/$t" $(seeds "$t") >"$OUT/$t.log" 2>&1 || rc=$?
    end=$(date +%s)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$t.log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$OUT/$t.log" | tail -n 1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$OUT/$t.log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$OUT/$t.log" | tail -n 1 || true)
    cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p')
    found=$(find "$OUT/crashes/$t" -type f | wc -l)
    verdict="no findings"
    if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
        verdict="FINDING (exit $rc, $found artifact(s) in crashes/$t)"
    fi
    printf '%-12s %5ss  execs %-10s %7s/s  cov %-5s ft %-6s corpus %-10s rss %sMB  %s\n' \
        "$t" "$((end - start))" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" \
        "${corp:-?}" "${rss:-?}" "$verdict" >"$OUT/$t.summary"
    cat "$OUT/$t.summary"
    [ "$verdict" = "no findings" ]
    exit
fi

# ---------------------------------------------------------------- build
coverage=0
if [ "${1:-}" = "--coverage" ]; then
    coverage=1
    shift
    secs=0
else
    secs=${1:-600}
    [ $# -gt 0 ] && shift
fi
targets=${*:-json_pretty json_scan json_scalar registry slug manifest audit_event}

command -v "$CC" >/dev/null || { echo "run-libfuzzer: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
mkdir -p "$OUT/obj" "$OUT/bin"

san="-fsanitize=address,undefined -fno-sanitize-recover=all"
if [ $coverage = 1 ]; then
    OUT=$OUT/cov-build
    mkdir -p "$OUT/obj" "$OUT/bin"
    san="-fprofile-instr-generate -fcoverage-mapping"
    # coverage, not findings: let the audit target pass its known regression inputs
    EXTRA_CFLAGS="${EXTRA_CFLAGS:-} -DFUZZ_AUDIT_KNOWN_OOM_MISREPORT"
fi
cflags="-g -O1 -fno-omit-frame-pointer -std=c11 -D_GNU_SOURCE -DFK_BUILDING_LIBRARY -DFK_ALLOC_FAULTS"
# every module's folder (lib/README.md): the fuzz build is one library, not
# one per module; the module rule is checked by the meson build
incs="-I$root/include"
for d in "$root"/lib/*/; do
    incs="$incs -I${d%/}"
done
incs="$incs $(pkg-config --cflags libpq libcjson libcrypto)"
libs="$(pkg-config --libs libpq libcjson libcrypto) -lm"

# the library's sources, as lib/meson.build lists them
srcs=$(grep -o "'[A-Za-z0-9_/]*\.c'" "$root/lib/meson.build" | tr -d "'")
# generated sources, as lib/meson.build generates them
python3 "$root/tools/embed.py" "$OUT/obj/parthenon_registry.c" fk__parthenon_registry_json \
    "$root/docs/parthenon-registry.json"
python3 "$root/tools/embed.py" "$OUT/obj/sql_files.c" fk__sql_core "$root/lib/sql/core--1.sql" \
    fk__sql_audit_write "$root/lib/sql/audit_write--1.sql" fk__sql_capture \
    "$root/lib/sql/capture--1.sql" fk__sql_guard "$root/lib/sql/guard--1.sql"
srcs="$srcs $OUT/obj/parthenon_registry.c $OUT/obj/sql_files.c"
objs=""
for s in $srcs; do
    case $s in /*) ;; *) s="$root/lib/$s" ;; esac
    o="$OUT/obj/$(basename "$(dirname "$s")")_$(basename "$s").o"
    # shellcheck disable=SC2086
    if [ $coverage = 1 ]; then
        $CC $cflags $san $incs -c "$s" -o "$o"
    else
        $CC $cflags $san -fsanitize=fuzzer-no-link $incs -c "$s" -o "$o"
    fi
    objs="$objs $o"
done
rm -f "$OUT/libfk.a"
# shellcheck disable=SC2086
ar rcs "$OUT/libfk.a" $objs

built=""
for t in $targets; do
    # shellcheck disable=SC2086
    if [ $coverage = 1 ]; then
        $CC $cflags ${EXTRA_CFLAGS:-} $san $incs "$here/fuzz_$t.c" "$here/driver.c" "$OUT/libfk.a" \
            $libs -o "$OUT/bin/fuzz_$t"
    else
        $CC $cflags ${EXTRA_CFLAGS:-} $san -fsanitize=fuzzer $incs "$here/fuzz_$t.c" "$OUT/libfk.a" \
            $libs -o "$OUT/bin/fuzz_$t"
    fi
    built="$built $t"
done

# ---------------------------------------------------------------- coverage
if [ $coverage = 1 ]; then
    grown=$(dirname "$OUT")/corpus
    rm -rf "$OUT/prof"
    mkdir -p "$OUT/prof"
    objects=""
    for t in $built; do
        dirs=$(seeds "$t")
        [ -d "$grown/$t" ] && dirs="$dirs $grown/$t"
        # shellcheck disable=SC2086
        LLVM_PROFILE_FILE="$OUT/prof/$t.profraw" "$OUT/bin/fuzz_$t" $dirs >/dev/null
        if [ -z "$objects" ]; then objects="$OUT/bin/fuzz_$t"; else objects="$objects -object $OUT/bin/fuzz_$t"; fi
    done
    ${LLVM_PROFDATA:-llvm-profdata} merge -o "$OUT/prof/all.profdata" "$OUT"/prof/*.profraw
    # shellcheck disable=SC2086
    ${LLVM_COV:-llvm-cov} report $objects -instr-profile="$OUT/prof/all.profdata" \
        "$root/lib/json/utf8.c" "$root/lib/json/json_escape.c" "$root/lib/json/json_number.c" \
        "$root/lib/json/json_pretty.c" "$root/lib/json/json_scan.c" "$root/lib/model/registry.c" \
        "$root/lib/fixtures/slug.c" "$root/lib/fixtures/manifest.c" \
        "$root/lib/audit/audit_write.c" >"$(dirname "$OUT")/coverage.txt"
    cat "$(dirname "$OUT")/coverage.txt"
    exit 0
fi

# ---------------------------------------------------------------- run
echo "run-libfuzzer: $secs s per target, $JOBS at a time:$built"
rm -f "$OUT"/*.summary
rc=0
# shellcheck disable=SC2086
printf '%s\n' $built | xargs -P "$JOBS" -I{} sh "$0" --run-one {} "$secs" || rc=1
{
    echo "libFuzzer + ASan + UBSan, $secs s per target, $($CC --version | head -n 1), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    for t in $built; do cat "$OUT/$t.summary" 2>/dev/null || echo "$t: no summary (see $OUT/$t.log)"; done
} >"$OUT/summary.txt"
cat "$OUT/summary.txt"
exit $rc
