package sqlstore

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
)

// TestDecodeSettingsOfDefaults: the defaults that decodeSettings decodes
// without parsing are what a new service stores, and decode as JSON would.
func TestDecodeSettingsOfDefaults(t *testing.T) {
	s := &gatehouse.Service{Name: "x", EscalationPolicy: gatehouse.Ref{ID: "PPOLICY"}}
	s.Normalize()
	row, err := serviceRowOf(s)
	if err != nil {
		t.Fatal(err)
	}
	if row.grouping != `{"type":null}` || row.autoPause != `{"enabled":false}` || row.urgency != `{"type":"constant","urgency":"high"}` {
		t.Fatalf("a new service stores %+v, not the defaults decodeSettings knows", row)
	}
	for _, r := range []serviceRow{row, {grouping: `{"type":"time","config":{"timeout":3}}`, autoPause: `{"enabled":true,"timeout":0}`, urgency: `{"type":"constant","urgency":"low"}`}} {
		var fast, parsed gatehouse.Service
		if err := r.decodeSettings(&fast); err != nil {
			t.Fatal(err)
		}
		for src, dst := range map[string]any{r.grouping: &parsed.AlertGrouping, r.autoPause: &parsed.AutoPause, r.urgency: &parsed.UrgencyRule} {
			if err := json.Unmarshal([]byte(src), dst); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff(parsed, fast); diff != "" {
			t.Errorf("decodeSettings(%+v) (-json.Unmarshal +decodeSettings):\n%s", r, diff)
		}
	}
}
