package handoff

import (
	"bytes"
	"encoding/json"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// EncodeYAML writes an object as YAML with sorted keys, leaving out what
// only a server fills in: the empty status and null creation timestamps that
// the API types carry. The result is byte-identical for equal objects.
func EncodeYAML(obj runtime.Object) (string, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return "", err
	}
	delete(tree, "status")
	pruneServerFields(tree)
	out, err := yaml.Marshal(tree)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// pruneServerFields drops the null creationTimestamp fields that the API
// types' metadata carries.
func pruneServerFields(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			pruneServerFields(e)
			if e == nil && k == "creationTimestamp" {
				delete(x, k)
			}
		}
	case []any:
		for _, e := range x {
			pruneServerFields(e)
		}
	}
}
