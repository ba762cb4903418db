#!/usr/bin/env bash
# Compile-time benchmark of the flow DSL: generates flows of 50, 200 and 500 steps in two shapes,
#   chain   s0 -> s1 -> ... -> s(N-1)
#   fan_in  s0 ... s(N-2) all roots, then s(N-1) after all of them (one handler of N parameters)
# each translation unit declaring the flow as a constexpr, taking its registration SQL as a
# constant expression, and instantiating its dispatcher and shape (every step's thunk and JSON
# mapping). Compiles each with g++-12 and clang++-16 (default constexpr and template limits) and
# prints wall-clock seconds, CPU seconds (user + system: the fairer figure on a busy machine) and
# peak memory from /usr/bin/time -v. The baseline row compiles a translation unit that only
# includes <pgflow/dsl.hpp> (what a header declaring flows costs); the dispatch row one that
# includes <pgflow/dsl.hpp> and <pgflow/dispatch.hpp> (Boost.JSON included: what the flows' TUs start from).
#
#   benchmarks/compile_time/run.sh                 all sizes, both compilers
#   STEPS="200" COMPILERS="clang++-16" benchmarks/compile_time/run.sh
#   CXXFLAGS="-O2" benchmarks/compile_time/run.sh  (default: -O0, i.e. a debug build)
#   benchmarks/compile_time/run.sh --emit chain 200   print one generated translation unit
#
# Goals (issue 18): the baseline under 1 s; 500 steps in under 5 s and 1 GiB per compiler. Exits non-zero if a compilation fails.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
steps_list=${STEPS:-"50 200 500"}
compilers=${COMPILERS:-"g++-12 clang++-16"}
cxxflags=${CXXFLAGS:-"-O0"}
work="$(mktemp -d "${TMPDIR:-/tmp}/pgflow-compile-time.XXXXXX")"
trap 'rm -rf "$work"' EXIT

common_tail() {
    cat <<'CPP'
constexpr std::string_view registration = pgflow::registration_sql(bench_flow);
static_assert(registration.starts_with("SELECT pgflow.create_flow("));

boost::json::value run_task(std::string_view step, const boost::json::value& input, const pgflow::task_context& ctx) {
    static constexpr auto dispatch = pgflow::make_dispatcher(bench_flow);
    return dispatch(step, input, ctx);
}
pgflow::flow_shape bench_shape() { return pgflow::shape_of(bench_flow); }
using bench_output = decltype(bench_flow)::output_type;
bench_output bench_decode(const boost::json::value& v) { return pgflow::from_json<bench_output>(v); }
CPP
}

generate_chain() {
    local n=$1
    echo '#include <pgflow/dispatch.hpp>'
    echo '#include <pgflow/dsl.hpp>'
    echo "constexpr auto bench_flow = pgflow::flow<\"chain_$n\", int>("
    echo '    pgflow::flow_options{.max_attempts = 3},'
    printf '    pgflow::step<"s0">([](int n) { return n; })'
    for ((i = 1; i < n; i++)); do
        printf ',\n    pgflow::step<"s%d", pgflow::after<"s%d">>(pgflow::step_options{.timeout = %d}, [](int, int x) { return x + %d; })' \
            "$i" "$((i - 1))" "$((i + 10))" "$i"
    done
    echo ');'
    common_tail
}

generate_fan_in() {
    local n=$1 last=$(($1 - 1))
    echo '#include <pgflow/dispatch.hpp>'
    echo '#include <pgflow/dsl.hpp>'
    echo "constexpr auto bench_flow = pgflow::flow<\"fan_in_$n\", int>("
    for ((i = 0; i < last; i++)); do
        printf '    pgflow::step<"s%d">([](int n) { return n + %d; }),\n' "$i" "$i"
    done
    printf '    pgflow::step<"s%d", pgflow::after<' "$last"
    for ((i = 0; i < last; i++)); do
        ((i > 0)) && printf ', '
        printf '"s%d"' "$i"
    done
    printf '>>([](int n'
    for ((i = 0; i < last; i++)); do printf ', int a%d' "$i"; done
    printf ') { return n'
    for ((i = 0; i < last; i++)); do printf ' + a%d' "$i"; done
    echo '; }));'
    common_tail
}

# Prints "<wall seconds> <cpu seconds> <peak MiB>" for compiling $2 with $1.
measure() {
    local compiler=$1 source=$2 log="$work/time.log"
    if ! /usr/bin/time -v "$compiler" -std=c++20 $cxxflags -I"$root/include" -c "$source" -o "$work/out.o" \
        2>"$log"; then
        echo "compilation failed: $compiler $source" >&2
        grep -v '^\s' "$log" | head -40 >&2
        return 1
    fi
    awk '/Elapsed \(wall clock\)/ { n = split($NF, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
         /User time \(seconds\)/ { cpu += $NF }
         /System time \(seconds\)/ { cpu += $NF }
         /Maximum resident set size/ { kb = $NF }
         END { printf "%.2f %.2f %.0f\n", s, cpu, kb / 1024 }' "$log"
}

if [[ ${1:-} == --emit ]]; then
    "generate_$2" "$3"
    exit 0
fi

# The two include-only rows are short, so one compile's wall time is mostly noise and a compiler's
# first compile reads its headers from a cold cache: each is compiled once untimed, then three
# times, and the row is the compile of median wall time.
measure_median() {
    measure "$1" "$2" >/dev/null
    for _ in 1 2 3; do measure "$1" "$2"; done | sort -n | sed -n 2p
}

echo '#include <pgflow/dsl.hpp>' > "$work/baseline.cpp"
printf '#include <pgflow/dispatch.hpp>\n#include <pgflow/dsl.hpp>\n' > "$work/dispatch.cpp"
printf '%-11s %-9s %6s %9s %9s %9s\n' compiler shape steps wall_s cpu_s peak_MiB
for compiler in $compilers; do
    read -r wall cpu mib < <(measure_median "$compiler" "$work/baseline.cpp")
    printf '%-11s %-9s %6s %9s %9s %9s\n' "$compiler" baseline 0 "$wall" "$cpu" "$mib"
    read -r wall cpu mib < <(measure_median "$compiler" "$work/dispatch.cpp")
    printf '%-11s %-9s %6s %9s %9s %9s\n' "$compiler" dispatch 0 "$wall" "$cpu" "$mib"
    for shape in chain fan_in; do
        for n in $steps_list; do
            source="$work/${shape}_$n.cpp"
            "generate_$shape" "$n" > "$source"
            read -r wall cpu mib < <(measure "$compiler" "$source")
            printf '%-11s %-9s %6s %9s %9s %9s\n' "$compiler" "$shape" "$n" "$wall" "$cpu" "$mib"
        done
    done
done
