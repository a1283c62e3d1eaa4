// dashboard-schema decodes Grafana dashboard JSON files strictly against Grafana's published
// dashboard schema (the v1 "dashboard" kind of the Apache-licensed grafana-foundation-sdk):
// an unknown or misspelt field, a wrong type or a missing required field in the dashboard, its
// variables, links, annotations, panels, their options and field config (per panel type) and
// their Prometheus queries fails it. Grafana's own server cannot run in our tests, so this is
// how the dashboard is checked against what Grafana expects.
//
// Usage: dashboard-schema FILE...   exit 0: all valid; 1: a file is invalid; 2: usage.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dashboard-schema FILE...")
		os.Exit(2)
	}
	// Registers every core panel type's options and every datasource's query schema, so that
	// options and targets are decoded strictly too instead of as free-form JSON.
	plugins.RegisterDefaultPlugins()
	status := 0
	for _, path := range os.Args[1:] {
		if problems, err := check(path); err != nil {
			fmt.Printf("dashboard-schema: %s: %v\n", path, err)
			status = 1
		} else if len(problems) > 0 {
			fmt.Printf("dashboard-schema: %s: does not match the dashboard schema:\n  %s\n",
				path, strings.Join(problems, "\n  "))
			status = 1
		}
	}
	os.Exit(status)
}

// rawPanel is what is read of a panel before the schema decodes it.
type rawPanel struct {
	Type        string            `json:"type"`
	Title       string            `json:"title"`
	FieldConfig json.RawMessage   `json:"fieldConfig"`
	Panels      []json.RawMessage `json:"panels"`
}

func check(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	// "__inputs", "__elements" and "__requires" are what Grafana's "export for sharing" adds
	// for its import dialog (the datasource to ask for, the minimum Grafana version); the
	// importer removes them, so they are not part of the dashboard schema.
	for _, key := range []string{"__inputs", "__elements", "__requires"} {
		delete(top, key)
	}
	dashboardJSON, _ := json.Marshal(top)
	var d dashboard.Dashboard
	problems := errorLines(d.UnmarshalJSONStrict(dashboardJSON))
	var panels []json.RawMessage
	if err := json.Unmarshal(top["panels"], &panels); err != nil {
		return nil, fmt.Errorf("panels: %v", err)
	}
	count := 0
	for i, p := range panels {
		problems = append(problems, checkPanel(fmt.Sprintf("panels[%d]", i), p, &count)...)
	}
	if len(problems) == 0 {
		fmt.Printf("dashboard-schema: %s: valid (schemaVersion %d, %d panels)\n",
			path, d.SchemaVersion, count)
	}
	return problems, nil
}

// What the SDK leaves loose in a panel, checked here: the panel type must be one whose options
// the schema knows, and the field config (the SDK decodes only its "custom" part strictly) is
// decoded strictly as a FieldConfigSource. Row panels hold panels of their own.
func checkPanel(where string, raw json.RawMessage, count *int) []string {
	var p rawPanel
	if err := json.Unmarshal(raw, &p); err != nil {
		return []string{where + ": " + err.Error()}
	}
	*count++
	var problems []string
	if p.Type == "row" {
		for i, inner := range p.Panels {
			problems = append(problems, checkPanel(fmt.Sprintf("%s.panels[%d]", where, i), inner, count)...)
		}
		return problems
	}
	if _, found := cog.ConfigForPanelcfgVariant(p.Type); !found {
		problems = append(problems, fmt.Sprintf("%s (%q): type %q is not a panel type the schema knows",
			where, p.Title, p.Type))
	}
	if p.FieldConfig != nil {
		var fc dashboard.FieldConfigSource
		for _, line := range errorLines(fc.UnmarshalJSONStrict(p.FieldConfig)) {
			problems = append(problems, where+".fieldConfig."+line)
		}
	}
	return problems
}

// The SDK returns its error list typed even when it is empty: only a non-empty one counts.
func errorLines(err error) []string {
	if err == nil || err.Error() == "" {
		return nil
	}
	return strings.Split(strings.TrimSpace(err.Error()), "\n")
}
