#!/usr/bin/env bash
# make bench-plan: what a plan of a large fleet costs through the real CLI,
# side by side in one run (these machines are shared and noisy):
#
# 1. `plan` of a pool with N model shards (N mcllm_model_shard resources and
#    one mcllm_inference_pool placing them) against N + 1 resources of a
#    minimal framework provider (cmd/terraform-provider-minimal: one required
#    and one computed attribute) and N + 1 terraform_data, for N = 100, 500;
#    then the same pools re-planned with their state against the floor.
# 2. Re-plan, with prior state, of a pool of 5,000 replicas and of a pool of
#    2,000 node groups: wall time, the provider's own time per RPC and phase
#    (MCLLM_TIMINGS_FILE), the floor — the same state and configuration
#    planned by minimal_echo, which has the pool's schema and computes
#    nothing, so its time is the CLI's alone — and one re-plan with
#    TF_LOG=TRACE.
#
# TF selects the CLI (OpenTofu in bin/ by default); RUNS the runs per median.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tf=$(command -v "${TF:-$root/bin/tofu}") || { echo "no CLI ${TF:-}: set TF to terraform or tofu" >&2; exit 1; }
runs=${RUNS:-5}
export TF_CLI_CONFIG_FILE="$root/build/empty.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
work="$root/build/plan-bench"
plugins="$root/build/plugins"

# Which registry host the CLI resolves "mcllm/..." to.
if "$tf" version | head -n 1 | grep -q OpenTofu; then host=registry.opentofu.org; else host=registry.terraform.io; fi
version=0.1.0
platform="$(go env GOOS)_$(go env GOARCH)"
mkdir -p "$plugins/$host/mcllm/minimal/$version/$platform"
go build -trimpath -o "$plugins/$host/mcllm/minimal/$version/$platform/terraform-provider-minimal_v$version" "$root/cmd/terraform-provider-minimal"
go build -o "$root/bin/plan-timings" "$root/cmd/plan-timings"
if [ ! -d "$plugins/$host/mcllm/mcllm/$version/$platform" ]; then
  echo "no mcllm provider for $host in build/plugins: run make install" >&2
  exit 1
fi

header() { printf 'terraform {\n  required_providers {\n    %s = { source = "mcllm/%s" }\n  }\n}\n\n' "$1" "$1"; }

models=(llama-3.1-8b qwen2.5-7b mistral-7b-v0.3 gemma-2-9b qwen2.5-14b)
types=("aws p5.48xlarge us-east-1" "gcp a3-highgpu-8g us-central1" "azure Standard_ND96amsr_A100_v4 eastus" "aws g6e.12xlarge us-east-1" "gcp g2-standard-48 us-central1")

gen_pool() { # n dir
  local n=$1 dir=$2
  {
    header mcllm
    for ((i = 0; i < n; i++)); do
      printf 'resource "mcllm_model_shard" "m%d" {\n  name = "m%d"\n  model = "%s"\n  precision = "bf16"\n  max_context_tokens = 4096\n  max_concurrent_sequences = %d\n  replicas = %d\n}\n' \
        "$i" "$i" "${models[$((i % ${#models[@]}))]}" $((1 + i % 8)) $((1 + i % 3))
    done
    printf 'resource "mcllm_inference_pool" "p" {\n  name = "bench"\n  node_groups = {\n'
    for ((g = 0; g < 10; g++)); do
      read -r cloud inst region <<<"${types[$((g % 5))]}"
      printf '    g%d = { cloud = "%s", region = "%s", instance_type = "%s", max_nodes = 200 }\n' "$g" "$cloud" "$region" "$inst"
    done
    printf '  }\n  model_shards = [\n'
    for ((i = 0; i < n; i++)); do printf '    mcllm_model_shard.m%d.demand,\n' "$i"; done
    printf '  ]\n}\n'
  } >"$dir/main.tf"
}

gen_minimal() { # n dir
  local n=$1 dir=$2
  {
    header minimal
    for ((i = 0; i <= n; i++)); do printf 'resource "minimal_item" "d%d" {\n  input = "m%d"\n}\n' "$i" "$i"; done
  } >"$dir/main.tf"
}

gen_data() { # n dir
  local n=$1 dir=$2
  for ((i = 0; i <= n; i++)); do
    printf 'resource "terraform_data" "d%d" {\n  input = { name = "m%d", replicas = %d }\n}\n' "$i" "$i" $((1 + i % 3))
  done >"$dir/main.tf"
}

# A pool of 5,000 replicas: 50 models of 100 replicas on 10 groups.
gen_replicas() { # dir
  {
    header mcllm
    printf 'resource "mcllm_inference_pool" "p" {\n  name = "scale"\n  node_groups = {\n'
    for ((g = 0; g < 10; g++)); do
      read -r cloud inst region <<<"${types[$((g % 5))]}"
      printf '    g%d = { cloud = "%s", region = "%s", instance_type = "%s", max_nodes = 2000 }\n' "$g" "$cloud" "$region" "$inst"
    done
    printf '  }\n  model_shards = [\n'
    for ((i = 0; i < 50; i++)); do
      printf '    { name = "m%d", model = "%s", precision = "bf16", max_context_tokens = 4096, max_concurrent_sequences = 4, replicas = 100 },\n' \
        "$i" "${models[$((i % ${#models[@]}))]}"
    done
    printf '  ]\n}\n'
  } >"$1/main.tf"
}

# A pool of 2,000 node groups and 20 models of 5 replicas.
gen_groups() { # dir
  {
    header mcllm
    printf 'resource "mcllm_inference_pool" "p" {\n  name = "scale"\n  node_groups = {\n'
    for ((g = 0; g < 2000; g++)); do
      read -r cloud inst region <<<"${types[$((g % 5))]}"
      printf '    g%d = { cloud = "%s", region = "%s", instance_type = "%s", max_nodes = 4 }\n' "$g" "$cloud" "$region" "$inst"
    done
    printf '  }\n  model_shards = [\n'
    for ((i = 0; i < 20; i++)); do
      printf '    { name = "m%d", model = "%s", precision = "bf16", max_context_tokens = 4096, max_concurrent_sequences = 4, replicas = 5 },\n' \
        "$i" "${models[$((i % ${#models[@]}))]}"
    done
    printf '  ]\n}\n'
  } >"$1/main.tf"
}

init() { (cd "$1" && rm -f .terraform.lock.hcl && "$tf" init -no-color -input=false -plugin-dir="$plugins" >/dev/null); }

# median_ms dir [timings-file]: median wall time of `plan`; with a timings
# file, the provider's figures of the last run are left in it.
median_ms() {
  local dir=$1 timings=${2:-} times=()
  for ((r = 0; r < runs; r++)); do
    [ -n "$timings" ] && : >"$timings"
    local start end
    start=$(date +%s%N)
    (cd "$dir" && MCLLM_TIMINGS_FILE=$timings "$tf" plan -no-color -input=false -refresh=false -lock=false -detailed-exitcode >/dev/null) || {
      local rc=$?
      [ "$rc" = 2 ] || { echo "plan failed in $dir" >&2; exit 1; }
      [ -z "$timings" ] || { echo "re-plan in $dir is not empty" >&2; exit 1; }
    }
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

# floor_ms dir: the median re-plan of dir's configuration and state served
# by minimal_echo and minimal_shard_echo, which return what they are given:
# the CLI's own time for that much configuration and output.
floor_ms() {
  local dir=$1 echo_dir=$1-echo
  rm -rf "$echo_dir" && mkdir -p "$echo_dir"
  sed -e 's/mcllm_inference_pool/minimal_echo/g; s/mcllm_model_shard/minimal_shard_echo/g; s#"mcllm/mcllm"#"mcllm/minimal"#; s/^    mcllm = /    minimal = /' \
    "$dir/main.tf" >"$echo_dir/main.tf"
  init "$echo_dir"
  sed -e 's/"mcllm_inference_pool"/"minimal_echo"/g; s/"mcllm_model_shard"/"minimal_shard_echo"/g; s#/mcllm/mcllm\\"#/mcllm/minimal\\"#g' \
    "$dir/terraform.tfstate" >"$echo_dir/terraform.tfstate"
  median_ms "$echo_dir"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "CLI: $("$tf" version | head -n 1); machine: $(nproc) cores; median of $runs runs of 'plan -refresh=false'"
echo
echo "1. Plan without state: a pool of N shards against N + 1 minimal framework resources and N + 1 terraform_data"
printf '%-6s %14s %14s %18s %12s %12s\n' "N" "mcllm (ms)" "minimal (ms)" "terraform_data (ms)" "÷ minimal" "÷ data"
for n in 100 500; do
  for kind in pool minimal data; do
    dir="$work/$kind-$n"
    rm -rf "$dir" && mkdir -p "$dir"
    "gen_$kind" "$n" "$dir"
    init "$dir"
  done
  pool=$(median_ms "$work/pool-$n")
  minimal=$(median_ms "$work/minimal-$n")
  data=$(median_ms "$work/data-$n")
  printf '%-6s %14s %14s %18s %12s %12s\n' "$n" "$pool" "$minimal" "$data" "$(ratio "$pool" "$minimal")" "$(ratio "$pool" "$data")"
done
echo "   The same pools re-planned with their state, against the CLI's floor for that configuration and state"
echo "   (minimal_shard_echo and minimal_echo: mcllm's schemas, computing nothing):"
printf '%-6s %14s %14s %12s\n' "N" "mcllm (ms)" "floor (ms)" "÷ floor"
for n in 100 500; do
  dir="$work/pool-$n"
  (cd "$dir" && "$tf" apply -no-color -input=false -auto-approve >/dev/null)
  replan=$(median_ms "$dir" "$dir/timings.jsonl")
  floor=$(floor_ms "$dir")
  printf '%-6s %14s %14s %12s\n' "$n" "$replan" "$floor" "$(ratio "$replan" "$floor")"
done

echo
echo "2. Re-plan with prior state (no changes): mcllm against the CLI's floor for the same state (minimal_echo)"
printf '%-22s %12s %12s %10s %16s  %s\n' "pool" "mcllm (ms)" "floor (ms)" "÷ floor" "TF_LOG=TRACE (ms)" "provider split (last run, ms)"
for kind in replicas groups; do
  dir="$work/scale-$kind"
  rm -rf "$dir" && mkdir -p "$dir"
  "gen_$kind" "$dir"
  init "$dir"
  (cd "$dir" && "$tf" apply -no-color -input=false -auto-approve >/dev/null)
  timings="$dir/timings.jsonl"
  replan=$(median_ms "$dir" "$timings")
  split=$("$root/bin/plan-timings" "$timings")
  floor=$(floor_ms "$dir")
  # A user debugging: one re-plan with the CLI's and the provider's trace log.
  start=$(date +%s%N)
  (cd "$dir" && TF_LOG=TRACE TF_LOG_PATH="$dir/trace.log" "$tf" plan -no-color -input=false -refresh=false -lock=false >/dev/null)
  trace=$((($(date +%s%N) - start) / 1000000))
  label=$([ "$kind" = replicas ] && echo "5,000 replicas" || echo "2,000 node groups")
  printf '%-22s %12s %12s %10s %16s  %s\n' "$label" "$replan" "$floor" "$(ratio "$replan" "$floor")" "$trace" "$split"
done
echo "(the CLI's own time is mcllm's wall time less the provider's; the floor is the CLI alone on the same values)"
