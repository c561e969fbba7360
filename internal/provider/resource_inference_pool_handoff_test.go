package provider

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	lwsv1 "sigs.k8s.io/lws/api/leaderworkerset/v1"

	"github.com/mcllm/terraform-provider-mcllm/internal/handoff"
)

const groupH100Tainted = `    h100 = { cloud = "aws", region = "us-east-1", instance_type = "p5.48xlarge", max_nodes = 2,
      taints = [{ key = "dedicated", value = "llm", effect = "NoSchedule" }] }`

// renderedManifests reads the manifests function's result (output
// mcllm_manifests) out of the state.
func renderedManifests(state *tfjson.State) (map[string]any, error) {
	if state == nil || state.Values == nil {
		return nil, fmt.Errorf("no state")
	}
	out, ok := state.Values.Outputs["mcllm_manifests"]
	if !ok {
		return nil, fmt.Errorf("no output mcllm_manifests")
	}
	m, _ := out.Value.(map[string]any)
	return m, nil
}

// poolValues reads the pool's attributes out of the state.
func poolValues(state *tfjson.State, address string) (map[string]any, error) {
	if state == nil || state.Values == nil {
		return nil, fmt.Errorf("no state")
	}
	for _, r := range state.Values.RootModule.Resources {
		if r.Address == address {
			return r.AttributeValues, nil
		}
	}
	return nil, fmt.Errorf("%s not in state", address)
}

// checkWorkloads checks every replica's workload against its placement: the
// manifest decodes strictly, is pinned to the replica's node group, asks for
// its GPUs, tolerates the group's taints, and runs the placement's engine
// arguments.
func checkWorkloads(address string) statecheck.StateCheck {
	return checkFunc(func(state *tfjson.State) error {
		pool, err := poolValues(state, address)
		if err != nil {
			return err
		}
		rendered, err := renderedManifests(state)
		if err != nil {
			return err
		}
		placement, _ := pool["placement"].(map[string]any)
		workloads, _ := rendered["workloads"].(map[string]any)
		if !slices.Equal(slices.Sorted(maps.Keys(placement)), slices.Sorted(maps.Keys(workloads))) {
			return fmt.Errorf("workload keys %v differ from placement keys %v", slices.Sorted(maps.Keys(workloads)), slices.Sorted(maps.Keys(placement)))
		}
		sizes, _ := pool["node_group_sizes"].(map[string]any)
		specs, _ := pool["node_group_specs"].(map[string]any)
		for g, size := range sizes {
			if spec, _ := specs[g].(map[string]any); spec["desired_size"] != size {
				return fmt.Errorf("node_group_specs[%s].desired_size = %v, node_group_sizes says %v", g, spec["desired_size"], size)
			}
		}
		for key, pv := range placement {
			p, w := pv.(map[string]any), workloads[key].(map[string]any)
			obj, err := handoff.DecodeStrict(w["manifest"].(string))
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			t, _ := strconv.Atoi(fmt.Sprint(p["tensor_parallel"]))
			stages, _ := strconv.Atoi(fmt.Sprint(p["pipeline_parallel"]))
			var pod corev1.PodSpec
			wantGPUs := t * stages
			switch o := obj.(type) {
			case *appsv1.Deployment:
				pod = o.Spec.Template.Spec
				// vllm serve <model> followed by the other engine arguments.
				args := toStrings(w["engine_args"])
				c := pod.Containers[0]
				if len(args) < 2 || args[0] != "--model" || !slices.Equal(c.Command, []string{"vllm", "serve", args[1]}) ||
					!slices.Equal(c.Args, args[2:]) {
					return fmt.Errorf("%s: container runs %v %v for engine args %v", key, c.Command, c.Args, args)
				}
			case *lwsv1.LeaderWorkerSet:
				pod, wantGPUs = o.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec, t
			default:
				return fmt.Errorf("%s: unexpected %T", key, obj)
			}
			if pod.NodeSelector[handoff.LabelNodeGroup] != p["node_group"] || pod.NodeSelector[handoff.LabelPool] != pool["name"] {
				return fmt.Errorf("%s: node selector %v for node group %v", key, pod.NodeSelector, p["node_group"])
			}
			if q := pod.Containers[0].Resources.Limits[handoff.GPUResource]; q.Value() != int64(wantGPUs) {
				return fmt.Errorf("%s: %s GPUs, want %d", key, q.String(), wantGPUs)
			}
			if p["node_group"] == "h100" && !slices.ContainsFunc(pod.Tolerations, func(t corev1.Toleration) bool { return t.Key == "dedicated" }) {
				return fmt.Errorf("%s: the h100 taint is not tolerated: %v", key, pod.Tolerations)
			}
		}
		return nil
	})
}

func toStrings(v any) []string {
	xs, _ := v.([]any)
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprint(x)
	}
	return out
}

// manifestHistory checks that a step changes the manifests of exactly the
// replicas whose placement changed.
type manifestHistory struct {
	address             string
	placement, manifest map[string]string
}

func (h *manifestHistory) check(wantMoved bool) statecheck.StateCheck {
	return checkFunc(func(state *tfjson.State) error {
		pool, err := poolValues(state, h.address)
		if err != nil {
			return err
		}
		placement, manifest := map[string]string{}, map[string]string{}
		for k, v := range pool["placement"].(map[string]any) {
			placement[k] = fmt.Sprint(v)
		}
		rendered, err := renderedManifests(state)
		if err != nil {
			return err
		}
		for k, v := range rendered["workloads"].(map[string]any) {
			manifest[k] = v.(map[string]any)["manifest"].(string)
		}
		moved := 0
		for k := range placement {
			old, existed := h.placement[k]
			if !existed {
				continue
			}
			placeChanged, manifestChanged := old != placement[k], h.manifest[k] != manifest[k]
			if placeChanged != manifestChanged {
				return fmt.Errorf("%s: placement changed %v, manifest changed %v", k, placeChanged, manifestChanged)
			}
			if placeChanged {
				moved++
			}
		}
		if h.placement != nil && wantMoved != (moved > 0) {
			return fmt.Errorf("%d replicas moved; want moves: %v", moved, wantMoved)
		}
		h.placement, h.manifest = placement, manifest
		return nil
	})
}

func TestAccInferencePool_handoff(t *testing.T) {
	const pool = "mcllm_inference_pool.fleet"
	k8s := `  kubernetes = { namespace = "llm", hf_token_secret = "hf-token" }`
	// The function gives the arguments the workloads run.
	args := `
output "args" {
  value = provider::mcllm::engine_args(mcllm_inference_pool.fleet.placement["llama70/0"], mcllm_model_shard.llama70.demand)
}
output "args_match" {
  value = provider::mcllm::engine_args(mcllm_inference_pool.fleet.placement["llama70/0"], mcllm_model_shard.llama70.demand) == provider::mcllm::manifests(mcllm_inference_pool.fleet).workloads["llama70/0"].engine_args
}
`
	manifests := `
output "mcllm_manifests" {
  value = provider::mcllm::manifests(mcllm_inference_pool.fleet)
}
`
	history := &manifestHistory{address: pool}
	unitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: poolConfig(groupH100Tainted+"\n"+groupL4, "llama8 llama70", k8s) + args + manifests,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownOutputValue("args_match", knownvalue.Bool(true)),
					plancheck.ExpectKnownOutputValueAtPath("args", tfjsonpath.New(5), knownvalue.StringExact("4")), // --tensor-parallel-size
					// Known at plan time, like the placement.
					plancheck.ExpectKnownOutputValueAtPath("mcllm_manifests", tfjsonpath.New("workloads").AtMapKey("llama70/0").AtMapKey("kind"), knownvalue.StringExact("Deployment")),
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_specs").AtMapKey("h100").AtMapKey("eks").AtMapKey("taints"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectExact(map[string]knownvalue.Check{
							"key": knownvalue.StringExact("dedicated"), "value": knownvalue.StringExact("llm"), "effect": knownvalue.StringExact("NO_SCHEDULE")})})),
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_specs").AtMapKey("l4").AtMapKey("gke").AtMapKey("accelerator_type"),
						knownvalue.StringExact("nvidia-l4")),
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_specs").AtMapKey("l4").AtMapKey("eks"), knownvalue.Null()),
					plancheck.ExpectKnownOutputValueAtPath("mcllm_manifests", tfjsonpath.New("services").AtMapKey("aws/us-east-1/llama70").AtMapKey("name"), knownvalue.StringExact("fleet-llama70-svc")),
					// The pool's own diff carries the decisions, not the manifests.
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("placement"), knownvalue.MapSizeExact(6)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{checkWorkloads(pool), history.check(false)},
			},
			{
				// Losing the L4 group moves the 8B replicas, and only their
				// manifests change.
				Config:            poolConfig(groupH100Tainted, "llama8 llama70", k8s) + manifests,
				ConfigStateChecks: []statecheck.StateCheck{checkWorkloads(pool), history.check(true)},
			},
			{
				// Adding a model changes no existing manifest.
				Config:            poolConfig(groupH100Tainted+"\n"+groupA100, "llama8 llama70 mixtral", k8s) + manifests,
				ConfigStateChecks: []statecheck.StateCheck{checkWorkloads(pool), history.check(false)},
			},
			{
				// Without kubernetes: no workloads, but node-group specs stay
				// and the function still gives the arguments.
				Config: poolConfig(groupH100Tainted+"\n"+groupA100, "llama8 llama70 mixtral", "") + manifests + `
output "args" {
  value = provider::mcllm::engine_args(mcllm_inference_pool.fleet.placement["llama70/0"], mcllm_model_shard.llama70.demand, 9000)
}
`,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownOutputValueAtPath("mcllm_manifests", tfjsonpath.New("workloads"), knownvalue.MapSizeExact(0)),
					plancheck.ExpectKnownValue(pool, tfjsonpath.New("node_group_specs"), knownvalue.MapSizeExact(2)),
					plancheck.ExpectKnownOutputValueAtPath("args", tfjsonpath.New(0), knownvalue.StringExact("--model")),
					plancheck.ExpectKnownOutputValueAtPath("args", tfjsonpath.New(1), knownvalue.StringExact("meta-llama/Llama-3.1-70B-Instruct")),
				}},
			},
		},
	})
}
