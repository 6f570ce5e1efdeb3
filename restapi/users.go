package restapi

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"

	"github.com/gatehouse-dev/gatehouse"
)

// accountLevelMe is PagerDuty's answer to GET /users/me with a key that has
// no user: not the usual error object, but a bare string.
var accountLevelMe = map[string]string{
	"error": "Because this request was made using an account-level access token, we were unable to determine the user's identity. Please use a user-level token.",
}

func getCurrentUser(r *request) (int, any, error) {
	u := r.principal.User
	if u == nil {
		return http.StatusBadRequest, accountLevelMe, nil
	}
	return http.StatusOK, map[string]userBody{"user": r.userBody(u)}, nil
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

func (r *request) userBody(u *gatehouse.User) userBody {
	emailHash := md5.Sum([]byte(u.Email))
	return userBody{
		ID:                u.ID,
		Type:              "user",
		Summary:           u.Name,
		Self:              r.externalURL + "/users/" + u.ID,
		HTMLURL:           r.externalURL + "/app/users/" + u.ID,
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
