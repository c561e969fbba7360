// Package catalog holds the facts the planner stands on: GPU instance types
// of AWS, Azure and GCP and the architectures of widely served models. Both
// tables are embedded JSON, validated when the package loads, and are the
// one source of truth for every figure the provider shows.
package catalog
