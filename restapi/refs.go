package restapi

// kindPaths is where objects of one kind live: their API path and their page
// in the web app, both followed by the object's ID.
type kindPaths struct {
	api, web string
}

// kinds maps each kind of object, as its type is named in PagerDuty's JSON
// ("user", "escalation_policy"), to its paths. The web app shares it.
var kinds = map[string]kindPaths{
	"user":              {"/users/", "/app/users/"},
	"team":              {"/teams/", "/app/teams/"},
	"escalation_policy": {"/escalation_policies/", "/app/escalation_policies/"},
	"service":           {"/services/", "/app/services/"},
	"vendor":            {"/vendors/", "/app/vendors/"},
	"priority":          {"/priorities/", "/app/priorities/"},
	"incident":          {"/incidents/", "/app/incidents/"},
	"log_entry":         {"/log_entries/", "/app/log_entries/"},
	"change_event":      {"/change_events/", "/app/change_events/"},
}

// self is the API URL of the object of kind with id.
func (r *request) self(kind, id string) string {
	return r.externalURL + kinds[kind].api + id
}

// htmlURL is the web app's page of the object of kind with id.
func (r *request) htmlURL(kind, id string) string {
	return r.externalURL + kinds[kind].web + id
}

// ref is PagerDuty's reference to the object of kind with id:
// type "<kind>_reference", its summary and its URLs.
func (r *request) ref(kind, id, summary string) reference {
	return reference{ID: id, Type: kind + "_reference", Summary: summary, Self: r.self(kind, id), HTMLURL: r.htmlURL(kind, id)}
}

// nestedRef is the reference to an object that lives under another, such as
// an integration under its service: /services/{id}/integrations/{id}.
func (r *request) nestedRef(parentKind, parentID, kind, collection, id, summary string) reference {
	tail := "/" + collection + "/" + id
	return reference{
		ID: id, Type: kind + "_reference", Summary: summary,
		Self:    r.self(parentKind, parentID) + tail,
		HTMLURL: r.htmlURL(parentKind, parentID) + tail,
	}
}
