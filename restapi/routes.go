package restapi

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
)

// routes registers every REST operation with the permission it needs.
func (s *Server) routes() {
	s.handle("GET /abilities", access.PermRead, s.listAbilities)
	s.handle("GET /abilities/{id}", access.PermRead, s.getAbility)
	s.handle("GET /users/me", access.PermRead, s.getCurrentUser)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errNotFound)
	})
}

// handle registers h under pattern behind the check of perm; the front door
// has already admitted the request.
func (s *Server) handle(pattern string, perm access.Permission, h func(w http.ResponseWriter, r *http.Request) error) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := principalOf(r).Permit(perm); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

func (s *Server) listAbilities(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, abilitiesBody{principalOf(r).Account.Abilities()})
	return nil
}

type abilitiesBody struct {
	Abilities []string `json:"abilities"`
}

func (s *Server) getAbility(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("id")
	account := principalOf(r).Account
	switch {
	case !gatehouse.IsKnownAbility(name):
		return errNotFound
	case !account.Has(name):
		return gatehouse.Errorf(gatehouse.CodeAbilityMissing, "The %s plan does not have the %s ability", account.Plan, name)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// accountLevelMe is PagerDuty's answer to GET /users/me with a key that has
// no user: not the usual error object, but a bare string.
var accountLevelMe = map[string]string{
	"error": "Because this request was made using an account-level access token, we were unable to determine the user's identity. Please use a user-level token.",
}

func (s *Server) getCurrentUser(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	if p.User == nil {
		writeJSON(w, http.StatusBadRequest, accountLevelMe)
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]userBody{"user": s.userBody(p.User)})
	return nil
}

// userBody is PagerDuty's User object.
type userBody struct {
	ID                string      `json:"id"`
	Type              string      `json:"type"`
	Summary           string      `json:"summary"`
	Self              string      `json:"self"`
	HTMLURL           string      `json:"html_url"`
	Name              string      `json:"name"`
	Email             string      `json:"email"`
	TimeZone          string      `json:"time_zone"`
	Color             string      `json:"color"`
	Role              string      `json:"role"`
	AvatarURL         string      `json:"avatar_url"`
	Description       *string     `json:"description"`
	InvitationSent    bool        `json:"invitation_sent"`
	JobTitle          string      `json:"job_title"`
	Teams             []reference `json:"teams"`
	ContactMethods    []reference `json:"contact_methods"`
	NotificationRules []reference `json:"notification_rules"`
}

// reference is PagerDuty's reference to another object.
type reference struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
	Self    string `json:"self"`
	HTMLURL string `json:"html_url"`
}

var userColors = []string{"green", "red", "purple", "teal", "orange", "blue", "brown", "dark-slate-blue"}

func (s *Server) userBody(u *gatehouse.User) userBody {
	emailHash := md5.Sum([]byte(u.Email))
	return userBody{
		ID:                u.ID,
		Type:              "user",
		Summary:           u.Name,
		Self:              s.cfg.ExternalURL + "/users/" + u.ID,
		HTMLURL:           s.cfg.ExternalURL + "/app/users/" + u.ID,
		Name:              u.Name,
		Email:             u.Email,
		TimeZone:          u.TimeZone,
		Color:             userColors[int(emailHash[0])%len(userColors)],
		Role:              string(u.Role),
		AvatarURL:         "https://secure.gravatar.com/avatar/" + hex.EncodeToString(emailHash[:]) + ".png?d=mm&r=PG",
		Teams:             []reference{},
		ContactMethods:    []reference{},
		NotificationRules: []reference{},
	}
}
