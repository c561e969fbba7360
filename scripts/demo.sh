#!/usr/bin/env bash
# make demo: plans and applies examples/quickstart — six model deployments on
# node groups of AWS, Azure and GCP — through the OpenTofu built in bin/ with
# the provider just built (make install), then shows a what-if change.
# `make demo-estimates` runs the catalog and memory walkthrough instead.
# No cloud credentials and no registry: the provider comes from build/plugins.
set -euo pipefail

example=${1:-quickstart}
root=$(cd "$(dirname "$0")/.." && pwd)
tofu="$root/bin/tofu"
work="$root/build/demo-$example"
export TF_CLI_CONFIG_FILE="$root/build/empty.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

rm -rf "$work" && mkdir -p "$work"
cp "$root/examples/$example"/*.tf "$work"/
cd "$work"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "tofu init (provider from build/plugins)"
"$tofu" init -no-color -input=false -plugin-dir="$root/build/plugins" >/dev/null
"$tofu" version | sed -n 1p

step "tofu plan: the placement is known at plan time"
"$tofu" plan -no-color -input=false -out=demo.tfplan >plan.txt
"$tofu" show -no-color -json demo.tfplan >plan.json
if grep -q '(known after apply)' plan.txt; then
  grep -n '(known after apply)' plan.txt; echo "unexpected unknown values in the plan"; exit 1
fi
grep -E '^Plan:' plan.txt

step "tofu apply"
"$tofu" apply -no-color -input=false demo.tfplan | grep -E '^Apply complete'

if [ "$example" = estimates ]; then
  for out in catalog memory fit; do
    step "$out"
    "$tofu" output -no-color -raw "$out"
    echo
  done
else
  step "where each model runs, nodes per group, cost"
  "$tofu" output -no-color -raw summary
  echo

  step "resilience: replicas left after losing a cloud"
  "$tofu" output -no-color resilience

  step "traffic weights per cloud (sum to 100)"
  "$tofu" output -no-color traffic_weights

  step "data transfer: pulling model weights from their bucket"
  "$tofu" output -no-color data_transfer

  step "hand-off: node groups per cloud"
  "$tofu" output -no-color node_groups

  step "hand-off: vLLM arguments of llama-70b/0"
  "$tofu" output -no-color -raw engine_args
  echo

  step "hand-off: the Kubernetes workload of llama-70b/0"
  "$tofu" output -no-color -raw manifest_example

  step "what if Llama-3.1-70B gets a third replica? (tofu plan -var llama_70b_replicas=3)"
  "$tofu" plan -no-color -input=false -var llama_70b_replicas=3 >whatif.txt || { cat whatif.txt; exit 1; }
  # The pool's diff: only the new key, the group sizes and the costs change.
  sed -n '/# mcllm_inference_pool.fleet will be updated/,/^    }$/p' whatif.txt \
    | grep -E '^\s+[~+-] |^\s+# \(|=>' | grep -vE '^\s+# \([0-9]+ unchanged attributes? hidden\)$' | head -n 80
  grep -E '^Plan:' whatif.txt
fi

step "re-plan without changes: nothing to do"
"$tofu" plan -no-color -input=false -detailed-exitcode >/dev/null && echo "No changes." || { echo "re-plan not empty"; exit 1; }
