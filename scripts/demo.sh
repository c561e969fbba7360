#!/usr/bin/env bash
# make demo: runs examples/demo through the OpenTofu built in bin/ with the
# provider just built (make install), in a scratch directory under build/.
# No cloud credentials and no registry: the provider comes from a local
# plugin directory.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tofu="$root/bin/tofu"
work="$root/build/demo"
export TF_CLI_CONFIG_FILE="$root/build/empty.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

rm -rf "$work" && mkdir -p "$work"
cp "$root"/examples/demo/*.tf "$work"/
cd "$work"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "tofu init (provider from build/plugins)"
"$tofu" init -no-color -input=false -plugin-dir="$root/build/plugins" >/dev/null
"$tofu" version | head -n 2

step "tofu plan: every figure below is known at plan time"
"$tofu" plan -no-color -input=false -out=demo.tfplan >/dev/null
"$tofu" show -no-color -json demo.tfplan >plan.json
grep -o '"known after apply"' plan.json >/dev/null && { echo "unexpected unknown values in the plan"; exit 1; } || true

step "tofu apply"
"$tofu" apply -no-color -input=false demo.tfplan | grep -E '^Apply complete'

cat <<'TXT'

Reading the tables: "catalog" lists the multi-GPU types of the built-in catalog
with the memory a serving runtime sees per GPU; "memory" is each deployment's
weights and KV cache; "fit" is the smallest tensor-parallel degree (tN) that
holds the deployment on one node, with the KV tokens left over, or, where none
fits, how much memory each GPU lacks at the node's full width.
TXT

for out in catalog memory fit; do
  step "$out"
  "$tofu" output -no-color -raw "$out"
  echo
done

step "re-plan: nothing changes"
"$tofu" plan -no-color -input=false -detailed-exitcode >/dev/null && echo "No changes." || { echo "re-plan not empty"; exit 1; }
