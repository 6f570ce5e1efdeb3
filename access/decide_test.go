package access

import (
	"net/http"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
)

// TestDecideUserActions states who may act on which user: y allowed, f 403.
func TestDecideUserActions(t *testing.T) {
	t.Parallel()
	actions := []Action{CreateUser, UpdateUser, ChangeUserRole, DeleteUser, ManageUserContact}
	owner, admin, manager := userWith(gatehouse.RoleOwner), userWith(gatehouse.RoleAdmin), userWith(gatehouse.RoleUser)
	other := &gatehouse.User{ID: "POTHER1", Role: gatehouse.RoleLimitedUser}
	general := KeyPrincipal(&gatehouse.APIKey{ID: "K", Kind: gatehouse.KeyGeneral}, business, nil)
	as := func(u *gatehouse.User) *Principal {
		return KeyPrincipal(&gatehouse.APIKey{ID: "T", Kind: gatehouse.KeyUserToken, UserID: u.ID}, business, u)
	}
	tests := []struct {
		name   string
		p      *Principal
		target *gatehouse.User
		want   string // one letter per action, in the order of actions
	}{
		{"general key on the owner", general, owner, "yyyyy"},
		{"command line on the owner", CLIPrincipal(business), owner, "yyyyy"},
		{"owner on an admin", as(owner), admin, "yyyyy"},
		{"owner on themselves", as(owner), owner, "yyfyy"},
		{"admin on the owner", as(admin), owner, "yffff"},
		{"admin on a responder", as(admin), other, "yyyyy"},
		{"admin on themselves", as(admin), admin, "yyfyy"},
		{"manager on themselves", as(manager), manager, "fyffy"},
		{"manager on a responder", as(manager), other, "fffff"},
		{"responder on themselves", as(other), other, "fyffy"},
		{"observer on the owner", tokenOf(gatehouse.RoleObserver, business), owner, "fffff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, action := range actions {
				got := map[int]byte{0: 'y', http.StatusForbidden: 'f'}[status(Decide(tt.p, action, Target{User: tt.target}))]
				if got != tt.want[i] {
					t.Errorf("Decide(%s) = %c, want %c (%v)", action, got, tt.want[i], Decide(tt.p, action, Target{User: tt.target}))
				}
			}
		})
	}
}
