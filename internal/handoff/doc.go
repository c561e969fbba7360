// Package handoff turns a placement into what the rest of the stack applies:
// node-group sizes and settings for each cloud's managed node groups, the
// serving engine's (vLLM's) arguments for every replica, and Kubernetes
// workloads that pin each replica to its node group.
//
// It is pure Go, like the planner: it reads planner values and returns plain
// values and YAML, and knows nothing of Terraform. Kubernetes objects are
// built from the Kubernetes API types (and LeaderWorkerSet's own types) and
// encoded by a YAML encoder, never by string templates.
package handoff
