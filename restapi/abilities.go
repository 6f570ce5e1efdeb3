package restapi

import (
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/gatehouse-dev/gatehouse"
)

func listAbilities(r *request) (int, any, error) {
	return http.StatusOK, abilitiesJSON(r.principal.Account), nil
}

// The GET /abilities answer of each account, encoded once. Cached accounts
// are shared and never change (a changed account is a new object), so the
// object itself is the key; the map holds it, so its address is not reused
// while the entry lives. It forgets everything past maxAbilityBodies.
var (
	abilityBodies     sync.Map // *gatehouse.Account → *rawJSON
	abilityBodiesSize atomic.Int64
)

const maxAbilityBodies = 10_000

// abilitiesJSON is the encoded GET /abilities answer of a.
func abilitiesJSON(a *gatehouse.Account) *rawJSON {
	if b, ok := abilityBodies.Load(a); ok {
		return b.(*rawJSON)
	}
	b, err := json.Marshal(abilitiesBody{a.Abilities()})
	if err != nil {
		panic("restapi: abilities cannot be encoded: " + err.Error())
	}
	if abilityBodiesSize.Add(1) > maxAbilityBodies {
		abilityBodies.Clear()
		abilityBodiesSize.Store(1)
	}
	body := &rawJSON{b}
	abilityBodies.Store(a, body)
	return body
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
	}
	if err := account.LacksAbility(name); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
