package restapi

import (
	"net/http"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// vendorBody is PagerDuty's Vendor object. generic_service_type is the type
// of the integrations made with the vendor, which PagerDuty's Terraform
// provider reads.
type vendorBody struct {
	ID                   string `json:"id"`
	Type                 string `json:"type"`
	Summary              string `json:"summary"`
	Self                 string `json:"self"`
	HTMLURL              string `json:"html_url"`
	Name                 string `json:"name"`
	Description          string `json:"description"`
	WebsiteURL           string `json:"website_url"`
	GenericServiceType   string `json:"generic_service_type"`
	AlertCreationDefault string `json:"alert_creation_default"`
}

func (r *request) vendorBody(v *gatehouse.Vendor) vendorBody {
	return vendorBody{
		ID: v.ID, Type: "vendor", Summary: v.Name, Self: r.self("vendor", v.ID), HTMLURL: r.htmlURL("vendor", v.ID),
		Name: v.Name, Description: v.Description, WebsiteURL: v.WebsiteURL, GenericServiceType: v.IntegrationType,
		AlertCreationDefault: gatehouse.DefaultAlertCreation,
	}
}

// listVendors serves GET /vendors: the built-in vendors whose name contains
// query, by name.
func listVendors(r *request) (int, any, error) {
	p, err := r.page()
	if err != nil {
		return 0, nil, err
	}
	matching := gatehouse.VendorsMatching(r.query("query"))
	items, more := pageOf(matching, p)
	bodies := make([]vendorBody, len(items))
	for i := range items {
		bodies[i] = r.vendorBody(&items[i])
	}
	return http.StatusOK, list{key: "vendors", items: bodies, page: p, more: more, total: len(matching)}, nil
}

// getVendor serves GET /vendors/{id}. PagerDuty's description says the
// vendor comes in an array; PagerDuty answers an object, which its clients
// read, and so does Gatehouse.
func getVendor(r *request) (int, any, error) {
	id := r.http.PathValue("id")
	v, ok := gatehouse.VendorByID(id)
	if !ok {
		return 0, nil, gatehouse.NotFound("Vendor " + id)
	}
	return http.StatusOK, map[string]vendorBody{"vendor": r.vendorBody(v)}, nil
}

// priorityBody is PagerDuty's Priority object.
type priorityBody struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Summary     string `json:"summary"`
	Self        string `json:"self"`
	HTMLURL     string `json:"html_url"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// listPriorities serves GET /priorities: P1 to P5.
func listPriorities(r *request) (int, any, error) {
	p, err := r.page()
	if err != nil {
		return 0, nil, err
	}
	items, more := pageOf(gatehouse.Priorities, p)
	bodies := make([]priorityBody, len(items))
	for i, pr := range items {
		bodies[i] = priorityBody{
			ID: pr.ID, Type: "priority", Summary: pr.Name, Self: r.self("priority", pr.ID), HTMLURL: r.htmlURL("priority", pr.ID),
			Name: pr.Name, Description: pr.Description,
		}
	}
	return http.StatusOK, list{key: "priorities", items: bodies, page: p, more: more, total: len(gatehouse.Priorities)}, nil
}

// pageOf is the page p of items held in memory.
func pageOf[T any](items []T, p sqlstore.Page) (page []T, more bool) {
	start := min(p.Offset, len(items))
	end := min(start+p.Limit, len(items))
	return items[start:end], end < len(items)
}
