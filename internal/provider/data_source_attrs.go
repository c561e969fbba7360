package provider

import "github.com/hashicorp/terraform-plugin-framework/datasource/schema"

// Computed data-source attributes, described: the building blocks of every
// data-source output schema (and of estimate_memory's return type).

func dsString(desc string) schema.Attribute {
	return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
}

func dsNumber(desc string) schema.Attribute {
	return schema.Float64Attribute{Computed: true, MarkdownDescription: desc}
}

func dsInteger(desc string) schema.Attribute {
	return schema.Int64Attribute{Computed: true, MarkdownDescription: desc}
}
