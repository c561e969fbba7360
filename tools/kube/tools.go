//go:build tools

// Package kube pins the Kubernetes API server and etcd that the hand-off's
// tests start: built from the Go module proxy into bin/, like OpenTofu.
package kube

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
