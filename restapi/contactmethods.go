package restapi

import (
	"net/http"

	"github.com/gatehouse-dev/gatehouse"
)

// contactMethodBody is PagerDuty's contact method object: an
// EmailContactMethod or a PhoneContactMethod (phone and SMS).
type contactMethodBody struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Summary        string `json:"summary"`
	Self           string `json:"self"`
	HTMLURL        string `json:"html_url"`
	Label          string `json:"label"`
	Address        string `json:"address"`
	SendShortEmail *bool  `json:"send_short_email,omitempty"`
	CountryCode    *int   `json:"country_code,omitempty"`
	Enabled        bool   `json:"enabled"`
	Blacklisted    *bool  `json:"blacklisted,omitempty"`
}

func (r *request) contactMethodBody(c *gatehouse.ContactMethod) contactMethodBody {
	ref := r.contactMethodRef(c)
	b := contactMethodBody{
		ID: c.ID, Type: c.Type, Summary: c.Label, Self: ref.Self, HTMLURL: ref.HTMLURL,
		Label: c.Label, Address: c.Address, Enabled: true,
	}
	if c.Type == gatehouse.ContactEmail {
		b.SendShortEmail = &c.SendShortEmail
	} else {
		blacklisted := false
		b.CountryCode, b.Blacklisted = &c.CountryCode, &blacklisted
	}
	return b
}

// contactMethodRef is the reference to c: type "email_contact_method_reference"
// and so on, under its user's URL.
func (r *request) contactMethodRef(c *gatehouse.ContactMethod) reference {
	return r.nestedRef("user", c.UserID, c.Type, "contact_methods", c.ID, c.Label)
}

// contactMethodInput is a contact method in a request body: only the fields
// a client sets.
type contactMethodInput struct {
	Type           opt[string] `json:"type"`
	Label          opt[string] `json:"label"`
	Address        opt[string] `json:"address"`
	CountryCode    opt[int]    `json:"country_code"`
	SendShortEmail opt[bool]   `json:"send_short_email"`
}

// apply sets on c the fields the client gave.
func (in *contactMethodInput) apply(c *gatehouse.ContactMethod) {
	if in.Type.Set {
		c.Type = in.Type.Value
	}
	if in.Label.Set {
		c.Label = in.Label.Value
	}
	if in.Address.Set {
		c.Address = in.Address.Value
	}
	if in.CountryCode.Set {
		c.CountryCode = in.CountryCode.Value
	}
	if in.SendShortEmail.Set {
		c.SendShortEmail = in.SendShortEmail.Value
	}
}

func listContactMethods(r *request) (int, any, error) {
	methods, err := r.scope().ContactMethods(r.ctx, r.http.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	bodies := make([]contactMethodBody, len(methods))
	for i, c := range methods {
		bodies[i] = r.contactMethodBody(c)
	}
	return http.StatusOK, map[string][]contactMethodBody{"contact_methods": bodies}, nil
}

func createContactMethod(r *request) (int, any, error) {
	in, err := decode[contactMethodInput](r, "contact_method")
	if err != nil {
		return 0, nil, err
	}
	c := &gatehouse.ContactMethod{}
	in.apply(c)
	if err := r.scope().CreateContactMethod(r.ctx, r.http.PathValue("id"), c); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]contactMethodBody{"contact_method": r.contactMethodBody(c)}, nil
}

func getContactMethod(r *request) (int, any, error) {
	c, err := r.scope().ContactMethod(r.ctx, r.http.PathValue("id"), r.http.PathValue("contact_method_id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]contactMethodBody{"contact_method": r.contactMethodBody(c)}, nil
}

func updateContactMethod(r *request) (int, any, error) {
	in, err := decode[contactMethodInput](r, "contact_method")
	if err != nil {
		return 0, nil, err
	}
	c, err := r.scope().UpdateContactMethod(r.ctx, r.http.PathValue("id"), r.http.PathValue("contact_method_id"), in.apply)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]contactMethodBody{"contact_method": r.contactMethodBody(c)}, nil
}

func deleteContactMethod(r *request) (int, any, error) {
	err := r.scope().DeleteContactMethod(r.ctx, r.http.PathValue("id"), r.http.PathValue("contact_method_id"))
	return http.StatusNoContent, nil, err
}
