#!/usr/bin/env bash
# make demo: plans and applies examples/quickstart — six model deployments on
# node groups of AWS, Azure and GCP — with the provider just built (make
# install), then shows a what-if change. TF selects the CLI: the OpenTofu
# built in bin/ by default, TF=terraform for Terraform (≥ 1.8: the quickstart
# calls provider functions). `make demo-estimates` runs the catalog and
# memory walkthrough instead. No cloud credentials and no registry: the
# provider comes from build/plugins.
set -euo pipefail

example=${1:-quickstart}
root=$(cd "$(dirname "$0")/.." && pwd)
tf=$(command -v "${TF:-$root/bin/tofu}") || { echo "no CLI ${TF:-}: set TF to terraform or tofu" >&2; exit 1; }
cli=$(basename "$tf")
work="$root/build/demo-$example"
export TF_CLI_CONFIG_FILE="$root/build/empty.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

rm -rf "$work" && mkdir -p "$work"
cp "$root/examples/$example"/*.tf "$work"/
cd "$work"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "$cli init (provider from build/plugins)"
"$tf" init -no-color -input=false -plugin-dir="$root/build/plugins" >/dev/null
"$tf" version | sed -n 1p

step "$cli plan: the placement is known at plan time"
"$tf" plan -no-color -input=false -out=demo.tfplan >plan.txt
"$tf" show -no-color -json demo.tfplan >plan.json
if grep -q '(known after apply)' plan.txt; then
  grep -n '(known after apply)' plan.txt; echo "unexpected unknown values in the plan"; exit 1
fi
grep -E '^Plan:' plan.txt

step "$cli apply"
"$tf" apply -no-color -input=false demo.tfplan | grep -E '^Apply complete'

if [ "$example" = estimates ]; then
  for out in catalog memory fit; do
    step "$out"
    "$tf" output -no-color -raw "$out"
    echo
  done
else
  step "where each model runs, nodes per group, cost"
  "$tf" output -no-color -raw summary
  echo

  step "resilience: replicas left after losing a cloud"
  "$tf" output -no-color resilience

  step "traffic weights per cloud (sum to 100)"
  "$tf" output -no-color traffic_weights

  step "data transfer: pulling model weights from their bucket"
  "$tf" output -no-color data_transfer

  step "hand-off: node groups per cloud"
  "$tf" output -no-color node_groups

  step "hand-off: vLLM arguments of llama-70b/0"
  "$tf" output -no-color -raw engine_args
  echo

  step "hand-off: the Kubernetes workload of llama-70b/0"
  "$tf" output -no-color -raw manifest_example

  step "what if Llama-3.1-70B gets a third replica? ($cli plan -var llama_70b_replicas=3)"
  "$tf" plan -no-color -input=false -var llama_70b_replicas=3 >whatif.txt || { cat whatif.txt; exit 1; }
  # The pool's diff: only the new key, the group sizes and the costs change.
  sed -n '/# mcllm_inference_pool.fleet will be updated/,/^    }$/p' whatif.txt \
    | grep -E '^\s+[~+-] |^\s+# \(|=>' | grep -vE '^\s+# \([0-9]+ unchanged attributes? hidden\)$' | head -n 80
  grep -E '^Plan:' whatif.txt
fi

step "re-plan without changes: nothing to do"
"$tf" plan -no-color -input=false -detailed-exitcode >/dev/null && echo "No changes." || { echo "re-plan not empty"; exit 1; }
