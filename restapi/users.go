package restapi

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// accountLevelMe is PagerDuty's answer to GET /users/me with a key that has
// no user: not the usual error object, but a bare string.
var accountLevelMe = map[string]string{
	"error": "Because this request was made using an account-level access token, we were unable to determine the user's identity. Please use a user-level token.",
}

// userBody is PagerDuty's User object. Its teams, contact methods and
// notification rules are references, or whole objects when include[] names
// them.
type userBody struct {
	ID                string  `json:"id"`
	Type              string  `json:"type"`
	Summary           string  `json:"summary"`
	Self              string  `json:"self"`
	HTMLURL           string  `json:"html_url"`
	Name              string  `json:"name"`
	Email             string  `json:"email"`
	TimeZone          string  `json:"time_zone"`
	Color             string  `json:"color"`
	Role              string  `json:"role"`
	AvatarURL         string  `json:"avatar_url"`
	Description       *string `json:"description"`
	InvitationSent    bool    `json:"invitation_sent"`
	CreatedViaSSO     bool    `json:"created_via_sso"`
	JobTitle          string  `json:"job_title"`
	Teams             []any   `json:"teams"`
	ContactMethods    []any   `json:"contact_methods"`
	NotificationRules []any   `json:"notification_rules"`
}

// reference is PagerDuty's reference to another object.
type reference struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
	Self    string `json:"self"`
	HTMLURL string `json:"html_url"`
}

// userBody is u's User object without its teams, contact methods and
// notification rules (empty lists); userBodies gives them.
func (r *request) userBody(u *gatehouse.User) userBody {
	emailHash := md5.Sum([]byte(u.Email))
	b := userBody{
		ID: u.ID, Type: "user", Summary: u.Name, Self: r.self("user", u.ID), HTMLURL: r.htmlURL("user", u.ID),
		Name: u.Name, Email: u.Email, TimeZone: u.TimeZone, Color: u.Color, Role: string(u.Role),
		AvatarURL: "https://secure.gravatar.com/avatar/" + hex.EncodeToString(emailHash[:]) + ".png?d=mm&r=PG",
		JobTitle:  u.JobTitle,
		Teams:     []any{}, ContactMethods: []any{}, NotificationRules: []any{},
	}
	if b.Color == "" {
		b.Color = gatehouse.DefaultColor(u.Email)
	}
	if u.Description != "" {
		b.Description = &u.Description
	}
	return b
}

// userBodies are the User objects of users with their teams, contact
// methods and notification rules, loaded in one query per kind: references,
// or whole objects for the kinds include names.
func (r *request) userBodies(users []*gatehouse.User, include map[string]bool) ([]userBody, error) {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	rel, err := r.scope().UserRelations(r.ctx, ids)
	if err != nil {
		return nil, err
	}
	bodies := make([]userBody, len(users))
	for i, u := range users {
		b := r.userBody(u)
		methods := rel.ContactMethods[u.ID]
		for _, t := range rel.Teams[u.ID] {
			if include["teams"] {
				b.Teams = append(b.Teams, r.teamBody(t))
			} else {
				b.Teams = append(b.Teams, r.ref("team", t.ID, t.Name))
			}
		}
		for _, c := range methods {
			if include["contact_methods"] {
				b.ContactMethods = append(b.ContactMethods, r.contactMethodBody(c))
			} else {
				b.ContactMethods = append(b.ContactMethods, r.contactMethodRef(c))
			}
		}
		for _, n := range rel.NotificationRules[u.ID] {
			if include["notification_rules"] {
				b.NotificationRules = append(b.NotificationRules, r.notificationRuleBody(n, methods, false))
			} else {
				b.NotificationRules = append(b.NotificationRules, r.notificationRuleRef(n))
			}
		}
		bodies[i] = b
	}
	return bodies, nil
}

// oneUser answers with u's User object, as include[] asks.
func (r *request) oneUser(status int, u *gatehouse.User) (int, any, error) {
	bodies, err := r.userBodies([]*gatehouse.User{u}, r.includes())
	if err != nil {
		return 0, nil, err
	}
	return status, map[string]userBody{"user": bodies[0]}, nil
}

// userInput is a User in a request body: only the fields a client sets.
// Read-only fields (teams, contact methods, avatar…) are ignored, as is the
// license: every user holds their role's.
type userInput struct {
	Name        opt[string] `json:"name"`
	Email       opt[string] `json:"email"`
	TimeZone    opt[string] `json:"time_zone"`
	Color       opt[string] `json:"color"`
	Role        opt[string] `json:"role"`
	Description opt[string] `json:"description"`
	JobTitle    opt[string] `json:"job_title"`
}

// apply sets on u the fields the client gave; null clears a field, and a
// cleared time zone or color becomes the default again.
func (in *userInput) apply(u *gatehouse.User) {
	for _, f := range []struct {
		in  opt[string]
		out *string
	}{
		{in.Name, &u.Name}, {in.Email, &u.Email}, {in.TimeZone, &u.TimeZone}, {in.Color, &u.Color},
		{in.Description, &u.Description}, {in.JobTitle, &u.JobTitle},
	} {
		if f.in.Set {
			*f.out = f.in.Value
		}
	}
	if in.Role.Set {
		u.Role = gatehouse.Role(in.Role.Value)
	}
}

func listUsers(r *request) (int, any, error) {
	p, err := r.page()
	if err != nil {
		return 0, nil, err
	}
	users, err := r.scope().Users(r.ctx, sqlstore.UserQuery{Query: r.query("query"), TeamIDs: r.values("team_ids"), Page: p})
	if err != nil {
		return 0, nil, err
	}
	bodies, err := r.userBodies(users.Items, r.includes())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, list{key: "users", items: bodies, page: p, more: users.More, total: users.Total}, nil
}

func createUser(r *request) (int, any, error) {
	in, err := decode[userInput](r, "user")
	if err != nil {
		return 0, nil, err
	}
	u := &gatehouse.User{Role: gatehouse.RoleUser}
	in.apply(u)
	if err := r.scope().CreateUser(r.ctx, u); err != nil {
		return 0, nil, err
	}
	return r.oneUser(http.StatusCreated, u)
}

func getUser(r *request) (int, any, error) {
	u, err := r.scope().User(r.ctx, r.http.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return r.oneUser(http.StatusOK, u)
}

// getCurrentUser is GET /users/me: the user of a user-level credential, as
// GET /users/{id} gives it.
func getCurrentUser(r *request) (int, any, error) {
	if r.principal.User == nil {
		return http.StatusBadRequest, accountLevelMe, nil
	}
	u, err := r.scope().User(r.ctx, r.principal.User.ID)
	if err != nil {
		return 0, nil, err
	}
	return r.oneUser(http.StatusOK, u)
}

func updateUser(r *request) (int, any, error) {
	in, err := decode[userInput](r, "user")
	if err != nil {
		return 0, nil, err
	}
	u, err := r.scope().UpdateUser(r.ctx, r.http.PathValue("id"), in.apply)
	if err != nil {
		return 0, nil, err
	}
	return r.oneUser(http.StatusOK, u)
}

func deleteUser(r *request) (int, any, error) {
	return http.StatusNoContent, nil, r.scope().DeleteUser(r.ctx, r.http.PathValue("id"))
}

// licenseBody is PagerDuty's License object.
type licenseBody struct {
	ID          string           `json:"id"`
	Type        string           `json:"type"`
	Summary     string           `json:"summary"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	ValidRoles  []gatehouse.Role `json:"valid_roles"`
	RoleGroup   string           `json:"role_group"`
}

// licenseWithCounts is a License with how many users hold it; there is no
// limit on how many may.
type licenseWithCounts struct {
	licenseBody
	CurrentValue         int  `json:"current_value"`
	AllocationsAvailable *int `json:"allocations_available"`
}

func licenseBodyOf(l gatehouse.License) licenseBody {
	return licenseBody{ID: l.ID, Type: "license", Summary: l.Name, Name: l.Name, Description: l.Description, ValidRoles: l.ValidRoles, RoleGroup: l.RoleGroup}
}

func getUserLicense(r *request) (int, any, error) {
	u, err := r.scope().User(r.ctx, r.http.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]licenseBody{"license": licenseBodyOf(gatehouse.LicenseOf(r.principal.Account, u.Role))}, nil
}

func listLicenses(r *request) (int, any, error) {
	counts, err := r.scope().UserRoleCounts(r.ctx)
	if err != nil {
		return 0, nil, err
	}
	a := r.principal.Account
	var bodies []licenseWithCounts
	for _, l := range gatehouse.Licenses(a) {
		b := licenseWithCounts{licenseBody: licenseBodyOf(l)}
		for role, n := range counts {
			if gatehouse.LicenseOf(a, role).ID == l.ID {
				b.CurrentValue += n
			}
		}
		bodies = append(bodies, b)
	}
	return http.StatusOK, map[string][]licenseWithCounts{"licenses": bodies}, nil
}

// allocationBody is one user's license, and since when they hold it.
type allocationBody struct {
	User        reference   `json:"user"`
	License     licenseBody `json:"license"`
	AllocatedAt string      `json:"allocated_at"`
}

func listLicenseAllocations(r *request) (int, any, error) {
	p, err := r.page()
	if err != nil {
		return 0, nil, err
	}
	users, err := r.scope().Users(r.ctx, sqlstore.UserQuery{Page: p})
	if err != nil {
		return 0, nil, err
	}
	bodies := make([]allocationBody, len(users.Items))
	for i, u := range users.Items {
		bodies[i] = allocationBody{
			User:        r.ref("user", u.ID, u.Name),
			License:     licenseBodyOf(gatehouse.LicenseOf(r.principal.Account, u.Role)),
			AllocatedAt: u.LicenseAllocatedAt.Format(time.RFC3339),
		}
	}
	return http.StatusOK, list{key: "license_allocations", items: bodies, page: p, more: users.More, total: users.Total}, nil
}
