package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
)

// mendIncidentSchemas mends three flaws of PagerDuty's description that no
// log entry can pass, and that its own examples and service contradict. It
// fails when a schema it mends is not as expected, so that a description
// that changes is noticed.
//
//   - Channel is a oneOf of five channel schemas whose properties are all
//     optional and open: every channel matches several, which oneOf
//     forbids. It becomes an anyOf.
//   - AcknowledgeLogEntry narrows LogEntry's type to
//     "acknowledgement_log_entry", which LogEntry's own enum does not have:
//     no entry can be both. It takes "acknowledge_log_entry", the type
//     PagerDuty answers and LogEntry lists.
//   - AgentReference allows integration_reference only for integrations;
//     PagerDuty names an integration by its own type, as IntegrationReference
//     lists them (events_api_v2_inbound_integration_reference…), which
//     AgentReference also takes now.
func mendIncidentSchemas(raw []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	schemas, _ := doc["components"].(map[string]any)["schemas"].(map[string]any)

	channel, _ := schemas["Channel"].(map[string]any)
	oneOf, ok := channel["oneOf"]
	if !ok {
		return nil, fmt.Errorf("Channel has no oneOf to mend")
	}
	delete(channel, "oneOf")
	channel["anyOf"] = oneOf

	ackType, err := typeProperty(schemas, "AcknowledgeLogEntry")
	if err != nil {
		return nil, err
	}
	if !slices.Equal(anyStrings(ackType["enum"]), []string{"acknowledgement_log_entry"}) {
		return nil, fmt.Errorf("AcknowledgeLogEntry's type is %v, not the flawed [acknowledgement_log_entry]", ackType["enum"])
	}
	ackType["enum"] = []any{"acknowledge_log_entry"}

	agentType, err := typeProperty(schemas, "AgentReference")
	if err != nil {
		return nil, err
	}
	integrationType, err := typeProperty(schemas, "IntegrationReference")
	if err != nil {
		return nil, err
	}
	agentEnum, _ := agentType["enum"].([]any)
	integrationEnum, _ := integrationType["enum"].([]any)
	if len(agentEnum) == 0 || len(integrationEnum) == 0 {
		return nil, fmt.Errorf("AgentReference or IntegrationReference has no type enum")
	}
	agentType["enum"] = append(agentEnum, integrationEnum...)
	return json.Marshal(doc)
}

// typeProperty returns the "type" property of the schema's allOf member
// that narrows it.
func typeProperty(schemas map[string]any, name string) (map[string]any, error) {
	schema, _ := schemas[name].(map[string]any)
	parts, _ := schema["allOf"].([]any)
	for _, part := range parts {
		props, _ := part.(map[string]any)["properties"].(map[string]any)
		if t, ok := props["type"].(map[string]any); ok {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%s has no type property to mend", name)
}

func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
