package handoff

import (
	"fmt"
	"hash/fnv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Labels that tie nodes, pods and services to a pool's plan.
const (
	LabelPool      = "mcllm.io/pool"
	LabelNodeGroup = "mcllm.io/node-group"
	LabelModel     = "mcllm.io/model"
	LabelReplica   = "mcllm.io/replica"
	LabelRole      = "mcllm.io/role"
	// RoleServe marks the pods that answer requests: every pod of a
	// single-node replica, the leader of a multi-node one.
	RoleServe = "serve"
	// AnnotationPlacement records where the plan put a replica.
	AnnotationPlacement = "mcllm.io/placement"
)

// maxObjectName keeps object names short enough for what controllers derive
// from them: LeaderWorkerSet names its workers' StatefulSet "<name>-0", and a
// StatefulSet labels its pods with its name plus an 11-character revision
// hash, while label values end at 63 characters.
const maxObjectName = 50

// ObjectName makes a name every kind accepts (an RFC 1035 label, as Services
// need) from parts — pool, model, suffix — joined by "-": lower case, runs of
// other characters turned into "-", a letter first, at most 50 characters.
// The readable join is unambiguous only while no part but the second (the
// model) contains a "-" ("a-b"+"c" and "a"+"b-c" both join to "a-b-c"); when
// that fails, or sanitising changed anything, a hash of the parts themselves
// keeps names of different parts apart.
func ObjectName(parts ...string) string {
	raw := strings.Join(parts, "-")
	ambiguous := false
	for i, p := range parts {
		if i != 1 && strings.Contains(p, "-") {
			ambiguous = true
		}
	}
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(raw) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	name := strings.Trim(b.String(), "-")
	if name == "" || name[0] < 'a' {
		name = "m-" + name
	}
	if name == raw && !ambiguous && len(name) <= maxObjectName {
		return name
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.Join(parts, "\x00")))
	suffix := fmt.Sprintf("-%08x", h.Sum32())
	if len(name) > maxObjectName-len(suffix) {
		name = strings.TrimRight(name[:maxObjectName-len(suffix)], "-")
	}
	return name + suffix
}

// LabelValueError says why s cannot be a Kubernetes label value; "" when it
// can. Pool, node-group and model names become label values.
func LabelValueError(s string) string {
	if errs := validation.IsValidLabelValue(s); len(errs) > 0 {
		return strings.Join(errs, "; ")
	}
	return ""
}

// LabelError says why key=value cannot be a Kubernetes label; "" when it can.
func LabelError(key, value string) string {
	if errs := validation.IsQualifiedName(key); len(errs) > 0 {
		return fmt.Sprintf("label key %q: %s", key, strings.Join(errs, "; "))
	}
	if e := LabelValueError(value); e != "" {
		return fmt.Sprintf("label %q value %q: %s", key, value, e)
	}
	return ""
}
