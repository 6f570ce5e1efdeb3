package restapi

import (
	"net/http"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// teamBody is PagerDuty's Team object.
type teamBody struct {
	ID          string     `json:"id"`
	Type        string     `json:"type"`
	Summary     string     `json:"summary"`
	Self        string     `json:"self"`
	HTMLURL     string     `json:"html_url"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	DefaultRole string     `json:"default_role"`
	Parent      *reference `json:"parent"`
}

func (r *request) teamBody(t *gatehouse.Team) teamBody {
	return teamBody{
		ID: t.ID, Type: "team", Summary: t.Name, Self: r.self("team", t.ID), HTMLURL: r.htmlURL("team", t.ID),
		Name: t.Name, Description: t.Description, DefaultRole: t.DefaultRole,
	}
}

// teamInput is a Team in a request body: only the fields a client sets.
type teamInput struct {
	Name        opt[string] `json:"name"`
	Description opt[string] `json:"description"`
	DefaultRole opt[string] `json:"default_role"`
}

// apply sets on t the fields the client gave.
func (in *teamInput) apply(t *gatehouse.Team) {
	if in.Name.Set {
		t.Name = in.Name.Value
	}
	if in.Description.Set {
		t.Description = in.Description.Value
	}
	if in.DefaultRole.Set {
		t.DefaultRole = in.DefaultRole.Value
	}
}

func listTeams(r *request) (int, any, error) {
	p, err := r.page()
	if err != nil {
		return 0, nil, err
	}
	teams, err := r.scope().Teams(r.ctx, sqlstore.TeamQuery{Query: r.query("query"), Page: p})
	if err != nil {
		return 0, nil, err
	}
	bodies := make([]teamBody, len(teams.Items))
	for i, t := range teams.Items {
		bodies[i] = r.teamBody(t)
	}
	return http.StatusOK, list{key: "teams", items: bodies, page: p, more: teams.More, total: teams.Total}, nil
}

func createTeam(r *request) (int, any, error) {
	in, err := decode[teamInput](r, "team")
	if err != nil {
		return 0, nil, err
	}
	t := &gatehouse.Team{}
	in.apply(t)
	if err := r.scope().CreateTeam(r.ctx, t); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]teamBody{"team": r.teamBody(t)}, nil
}

func getTeam(r *request) (int, any, error) {
	t, err := r.scope().Team(r.ctx, r.http.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]teamBody{"team": r.teamBody(t)}, nil
}

func updateTeam(r *request) (int, any, error) {
	in, err := decode[teamInput](r, "team")
	if err != nil {
		return 0, nil, err
	}
	t, err := r.scope().UpdateTeam(r.ctx, r.http.PathValue("id"), in.apply)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]teamBody{"team": r.teamBody(t)}, nil
}

func deleteTeam(r *request) (int, any, error) {
	return http.StatusNoContent, nil, r.scope().DeleteTeam(r.ctx, r.http.PathValue("id"))
}

// memberBody is a member of a team: the user (a reference, or the whole
// User with include[]=users) and their role in the team.
type memberBody struct {
	User any    `json:"user"`
	Role string `json:"role"`
}

func listTeamMembers(r *request) (int, any, error) {
	p, err := r.page()
	if err != nil {
		return 0, nil, err
	}
	members, err := r.scope().TeamMembers(r.ctx, r.http.PathValue("id"), p)
	if err != nil {
		return 0, nil, err
	}
	bodies := make([]memberBody, len(members.Items))
	for i, m := range members.Items {
		bodies[i] = memberBody{User: r.ref("user", m.User.ID, m.User.Name), Role: m.Role}
	}
	if r.includes()["users"] {
		users := make([]*gatehouse.User, len(members.Items))
		for i, m := range members.Items {
			users[i] = m.User
		}
		full, err := r.userBodies(users, nil)
		if err != nil {
			return 0, nil, err
		}
		for i := range bodies {
			bodies[i].User = full[i]
		}
	}
	return http.StatusOK, list{key: "members", items: bodies, page: p, more: members.More, total: members.Total}, nil
}

// memberInput is the body of PUT /teams/{id}/users/{user_id}; the role is
// "manager" when the body has none.
type memberInput struct {
	Role opt[string] `json:"role"`
}

func setTeamMember(r *request) (int, any, error) {
	role := "manager"
	if r.http.ContentLength != 0 {
		in, err := decodeBare[memberInput](r)
		if err != nil {
			return 0, nil, err
		}
		if in.Role.Set && !in.Role.Null {
			role = in.Role.Value
		}
	}
	err := r.scope().SetTeamMember(r.ctx, r.http.PathValue("id"), r.http.PathValue("user_id"), role)
	return http.StatusNoContent, nil, err
}

func removeTeamMember(r *request) (int, any, error) {
	err := r.scope().RemoveTeamMember(r.ctx, r.http.PathValue("id"), r.http.PathValue("user_id"))
	return http.StatusNoContent, nil, err
}
