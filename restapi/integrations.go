package restapi

import (
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

// integrationBody is PagerDuty's Integration object. Its integration key is
// a routing key, shown in full to whoever may see the service.
type integrationBody struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Summary        string `json:"summary"`
	Self           string `json:"self"`
	HTMLURL        string `json:"html_url"`
	Name           string `json:"name"`
	Service        any    `json:"service"`
	CreatedAt      string `json:"created_at"`
	Vendor         any    `json:"vendor,omitempty"`
	IntegrationKey string `json:"integration_key"`
}

func (r *request) integrationBody(in *gatehouse.Integration) integrationBody {
	ref := r.integrationRef(in)
	b := integrationBody{
		ID: in.ID, Type: in.Type, Summary: in.Name, Self: ref.Self, HTMLURL: ref.HTMLURL,
		Name: in.Name, Service: r.ref("service", in.Service.ID, in.Service.Summary), CreatedAt: in.CreatedAt.Format(time.RFC3339),
		IntegrationKey: in.Key,
	}
	if v, ok := gatehouse.VendorByID(in.VendorID); ok {
		b.Vendor = r.ref("vendor", v.ID, v.Name)
	}
	return b
}

// integrationRef is the reference to an integration, whose type is its
// type's: events_api_v2_inbound_integration_reference.
func (r *request) integrationRef(in *gatehouse.Integration) reference {
	return r.nestedRef("service", in.Service.ID, in.Type, "integrations", in.ID, in.Name)
}

// integrationInput is an Integration in a request body: only the fields a
// client sets. "integration_key": null on PUT draws a new key; a key sent
// is otherwise ignored, as are read-only and unknown fields.
type integrationInput struct {
	Name           opt[string]   `json:"name"`
	Type           opt[string]   `json:"type"`
	Vendor         opt[refInput] `json:"vendor"`
	IntegrationKey opt[string]   `json:"integration_key"`
}

func (in *integrationInput) apply(i *gatehouse.Integration) {
	if in.Name.Set && !in.Name.Null {
		i.Name = in.Name.Value
	}
	if in.Type.Set && !in.Type.Null {
		i.Type = in.Type.Value
	}
	switch v := in.Vendor; {
	case v.Set && v.Null:
		i.VendorID = ""
	case v.Set && v.Value.ID != "":
		i.VendorID = v.Value.ID
	}
	if in.IntegrationKey.Set && in.IntegrationKey.Null {
		i.Key = ""
	}
}

// integrationAnswer is {"integration": …}, with the service and the vendor
// expanded when include[] asks for them.
func (r *request) integrationAnswer(status int, in *gatehouse.Integration) (int, any, error) {
	b := r.integrationBody(in)
	want := r.includes()
	if want["services"] {
		s, err := r.scope().Service(r.ctx, in.Service.ID)
		if err != nil {
			return 0, nil, err
		}
		b.Service = r.serviceBody(s, serviceIncludes{})
	}
	if v, ok := gatehouse.VendorByID(in.VendorID); ok && want["vendors"] {
		b.Vendor = r.vendorBody(v)
	}
	return status, map[string]integrationBody{"integration": b}, nil
}

func createIntegration(r *request) (int, any, error) {
	in, err := decode[integrationInput](r, "integration")
	if err != nil {
		return 0, nil, err
	}
	i := &gatehouse.Integration{}
	in.apply(i)
	if err := r.scope().CreateIntegration(r.ctx, r.http.PathValue("id"), i); err != nil {
		return 0, nil, err
	}
	return r.integrationAnswer(http.StatusCreated, i)
}

func getIntegration(r *request) (int, any, error) {
	i, err := r.scope().Integration(r.ctx, r.http.PathValue("id"), r.http.PathValue("integration_id"))
	if err != nil {
		return 0, nil, err
	}
	return r.integrationAnswer(http.StatusOK, i)
}

// updateIntegration takes the integration wrapped, {"integration": {…}}, as
// PagerDuty documents, or bare, as go-pagerduty v1.8.0's UpdateIntegration
// sends it (decode takes both).
func updateIntegration(r *request) (int, any, error) {
	in, err := decode[integrationInput](r, "integration")
	if err != nil {
		return 0, nil, err
	}
	i, err := r.scope().UpdateIntegration(r.ctx, r.http.PathValue("id"), r.http.PathValue("integration_id"), in.apply)
	if err != nil {
		return 0, nil, err
	}
	return r.integrationAnswer(http.StatusOK, i)
}

func deleteIntegration(r *request) (int, any, error) {
	err := r.scope().DeleteIntegration(r.ctx, r.http.PathValue("id"), r.http.PathValue("integration_id"))
	return http.StatusNoContent, nil, err
}
