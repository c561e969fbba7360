#!/usr/bin/env bash
# make bench-plan: how long `tofu plan` takes for a pool of N model shards
# (N mcllm_model_shard resources and one mcllm_inference_pool placing them)
# against N + 1 terraform_data resources, side by side in one run, for
# N = 100 and 500. Prints the median of several runs and the ratio.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tofu="$root/bin/tofu"
runs=${RUNS:-5}
export TF_CLI_CONFIG_FILE="$root/build/empty.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

models=(llama-3.1-8b qwen2.5-7b mistral-7b-v0.3 gemma-2-9b qwen2.5-14b)

gen_pool() { # n dir
  local n=$1 dir=$2
  {
    printf 'terraform {\n  required_providers {\n    mcllm = { source = "mcllm/mcllm" }\n  }\n}\n\n'
    for ((i = 0; i < n; i++)); do
      printf 'resource "mcllm_model_shard" "m%d" {\n  name = "m%d"\n  model = "%s"\n  precision = "bf16"\n  max_context_tokens = 4096\n  max_concurrent_sequences = %d\n  replicas = %d\n}\n' \
        "$i" "$i" "${models[$((i % ${#models[@]}))]}" $((1 + i % 8)) $((1 + i % 3))
    done
    printf 'resource "mcllm_inference_pool" "p" {\n  name = "bench"\n  node_groups = {\n'
    local types=("aws p5.48xlarge us-east-1" "gcp a3-highgpu-8g us-central1" "azure Standard_ND96amsr_A100_v4 eastus" "aws g6e.12xlarge us-east-1" "gcp g2-standard-48 us-central1")
    for ((g = 0; g < 10; g++)); do
      read -r cloud inst region <<<"${types[$((g % 5))]}"
      printf '    g%d = { cloud = "%s", region = "%s", instance_type = "%s", max_nodes = 200 }\n' "$g" "$cloud" "$region" "$inst"
    done
    printf '  }\n  model_shards = [\n'
    for ((i = 0; i < n; i++)); do printf '    mcllm_model_shard.m%d.demand,\n' "$i"; done
    printf '  ]\n}\n'
  } >"$dir/main.tf"
}

gen_data() { # n dir
  local n=$1 dir=$2
  for ((i = 0; i <= n; i++)); do
    printf 'resource "terraform_data" "d%d" {\n  input = { name = "m%d", replicas = %d }\n}\n' "$i" "$i" $((1 + i % 3))
  done >"$dir/main.tf"
}

median_ms() { # dir
  local dir=$1 times=()
  for ((r = 0; r < runs; r++)); do
    local start end
    start=$(date +%s%N)
    (cd "$dir" && "$tofu" plan -no-color -input=false -refresh=false -lock=false >/dev/null)
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

printf '%-6s %18s %22s %8s\n' "N" "pool plan (ms)" "terraform_data (ms)" "ratio"
for n in 100 500; do
  for kind in pool data; do
    dir="$root/build/plan-bench/$kind-$n"
    rm -rf "$dir" && mkdir -p "$dir"
    "gen_$kind" "$n" "$dir"
    (cd "$dir" && "$tofu" init -no-color -input=false -plugin-dir="$root/build/plugins" >/dev/null)
  done
  pool=$(median_ms "$root/build/plan-bench/pool-$n")
  data=$(median_ms "$root/build/plan-bench/data-$n")
  printf '%-6s %18s %22s %8.2f\n' "$n" "$pool" "$data" "$(awk -v a="$pool" -v b="$data" 'BEGIN { print a / b }')"
done
echo "(median of $runs runs of 'tofu plan -refresh=false' each, no state; machine: $(nproc) cores)"
