package provider

import (
	"context"
	"fmt"
	"sort"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

// placementHistory remembers a pool's placement across test steps, to check
// how many replicas a step moved.
type placementHistory struct {
	address string
	last    map[string]any
}

func (h *placementHistory) placement(state *tfjson.State) (map[string]any, error) {
	if state == nil || state.Values == nil {
		return nil, fmt.Errorf("no state")
	}
	for _, r := range state.Values.RootModule.Resources {
		if r.Address == h.address {
			p, _ := r.AttributeValues["placement"].(map[string]any)
			return p, nil
		}
	}
	return nil, fmt.Errorf("%s not in state", h.address)
}

// record stores the placement of this step.
func (h *placementHistory) record() statecheck.StateCheck {
	return checkFunc(func(state *tfjson.State) error {
		p, err := h.placement(state)
		h.last = p
		return err
	})
}

// movedAtMost checks that at most n replicas present in both steps changed
// place, and that no replica outside allowed moved.
func (h *placementHistory) moved(check func(moved []string) error) statecheck.StateCheck {
	return checkFunc(func(state *tfjson.State) error {
		p, err := h.placement(state)
		if err != nil {
			return err
		}
		var moved []string
		for k, v := range p {
			if old, ok := h.last[k]; ok && fmt.Sprint(old) != fmt.Sprint(v) {
				moved = append(moved, k)
			}
		}
		sort.Strings(moved)
		h.last = p
		return check(moved)
	})
}

type checkFunc func(*tfjson.State) error

func (f checkFunc) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	resp.Error = f(req.State)
}

func h2s(p map[string]any) string {
	out := ""
	for k, v := range p {
		m, _ := v.(map[string]any)
		out += fmt.Sprintf("%s=%v/%v ", k, m["node_group"], m["node"])
	}
	return out
}
