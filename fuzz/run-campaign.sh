#!/usr/bin/env bash
# Long libFuzzer campaign over the oix fuzz targets, one after the other.
# Usage: fuzz/run-campaign.sh SECONDS_PER_TARGET [TARGET...]
# Works on stable Rust (`-s none`: no sanitizer; oix is safe Rust). New inputs go to
# fuzz/corpus-run/<target> (git-ignored); the checked-in fuzz/corpus/<target> is read only.
# Findings land in fuzz/artifacts/<target>/. A summary line per target is appended to
# fuzz/corpus-run/summary.txt.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:?seconds per target}
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(json_model reference digest platform where_expr layout_index plan archive_import)
fi
cargo fuzz build -s none >/dev/null 2>&1
mkdir -p corpus-run
for t in "${targets[@]}"; do
  mkdir -p "corpus-run/$t"
  log="corpus-run/$t.log"
  start=$(date +%s)
  set +e
  cargo fuzz run -s none "$t" "corpus-run/$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  end=$(date +%s)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  # libFuzzer's own count of seconds spent fuzzing (the wall time above includes the build)
  fuzzed=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' || echo '?')
  crashes=$(ls "artifacts/$t" 2>/dev/null | wc -l)
  echo "$(date -u +%FT%TZ) $t seconds=$((end - start)) fuzzed=$fuzzed execs=$execs exit=$rc artifacts=$crashes" | tee -a corpus-run/summary.txt
done
