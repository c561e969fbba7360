//go:build tools

// Package tools pins the command-line tools the project builds for itself:
// OpenTofu (the real CLI for acceptance tests, docs and the demo) and
// tfplugindocs. Their versions live in this module's go.mod, apart from the
// provider's own dependencies.
package tools

import (
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
	_ "github.com/opentofu/opentofu/cmd/tofu"
)
