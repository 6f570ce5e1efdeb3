package restapi

import (
	"net/http"

	"github.com/gatehouse-dev/gatehouse"
)

func listAbilities(r *request) (int, any, error) {
	return http.StatusOK, abilitiesBody{r.principal.Account.Abilities()}, nil
}

type abilitiesBody struct {
	Abilities []string `json:"abilities"`
}

func getAbility(r *request) (int, any, error) {
	name := r.http.PathValue("id")
	account := r.principal.Account
	switch {
	case !gatehouse.IsKnownAbility(name):
		return 0, nil, errNotFound
	case !account.Has(name):
		return 0, nil, gatehouse.Errorf(gatehouse.CodeAbilityMissing, "The %s plan does not have the %s ability", account.Plan, name)
	}
	return http.StatusNoContent, nil, nil
}
