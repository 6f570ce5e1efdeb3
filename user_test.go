package gatehouse

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUserValidateFor(t *testing.T) {
	t.Parallel()
	basic := &Account{Plan: PlanBasic}
	free := &Account{Plan: PlanFree}
	business := &Account{Plan: PlanBusiness}
	valid := func(change func(*User)) User {
		u := User{Email: "ada@example.com", Name: "Ada", Role: RoleUser}
		change(&u)
		return u
	}
	tests := []struct {
		name    string
		account *Account
		user    User
		want    []string
	}{
		{"valid", basic, valid(func(*User) {}), nil},
		{"every field set", business, valid(func(u *User) {
			u.Role, u.TimeZone, u.Color, u.JobTitle, u.Description = RoleObserver, "America/Lima", "dark-slate-blue", "Boss", "Two\nlines"
		}), nil},
		{"observer without advanced permissions", free, valid(func(u *User) { u.Role = RoleObserver }),
			[]string{`Role "observer" needs the advanced_permissions ability, which plan "free" does not have`}},
		{"restricted access without advanced permissions", free, valid(func(u *User) { u.Role = RoleRestrictedAccess }),
			[]string{`Role "restricted_access" needs the advanced_permissions ability, which plan "free" does not have`}},
		{"stakeholder without read-only users", basic, valid(func(u *User) { u.Role = RoleReadOnlyLimitedUser }),
			[]string{`Role "read_only_limited_user" needs the read_only_users ability, which plan "basic" does not have`}},
		{"every problem", basic, User{Email: "x", Name: strings.Repeat("é", 101), Role: "god", TimeZone: "../etc/passwd",
			Color: "two\nlines", JobTitle: strings.Repeat("j", 101), Description: "bell\a"}, []string{
			`Email "x" is not a valid address`,
			"Name must be at most 100 characters",
			`Role "god" is not one of owner, admin, user, limited_user, observer, restricted_access, read_only_user, read_only_limited_user`,
			`Time zone "../etc/passwd" is not a time zone such as "Europe/Paris"`,
			"Color must not contain control characters",
			"Job title must be at most 100 characters",
			"Description must not contain control characters other than tabs and line breaks",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			if err := tt.user.ValidateFor(tt.account); err != nil {
				got = err.(*Error).Errors
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ValidateFor (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTimeZoneProblem(t *testing.T) {
	t.Parallel()
	for tz, ok := range map[string]bool{
		"Etc/UTC": true, "UTC": true, "Europe/Paris": true, "America/Argentina/Buenos_Aires": true,
		"": false, "Local": false, "Mars/Olympus": false, "/etc/localtime": false, "Europe/../Europe/Paris": false, "Europe/Paris\n": false,
	} {
		if got := TimeZoneProblem(tz) == ""; got != ok {
			t.Errorf("TimeZoneProblem(%q) = %q, want ok %t", tz, TimeZoneProblem(tz), ok)
		}
	}
}

func TestUserNormalize(t *testing.T) {
	t.Parallel()
	u := User{Email: " Ada@Example.com", Name: " Ada "}
	u.Normalize()
	want := User{Email: "ada@example.com", Name: "Ada", TimeZone: DefaultTimeZone, Color: DefaultColor("ada@example.com")}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("Normalize (-want +got):\n%s", diff)
	}
	if !slices.Contains(UserColors, want.Color) {
		t.Errorf("DefaultColor = %q, not one of %v", want.Color, UserColors)
	}
}

func TestLicenses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		plan Plan
		want []License
	}{
		{PlanBasic, []License{{ID: "PLBASFU", Name: "Basic (Full User)", RoleGroup: LicenseFullUser, ValidRoles: []Role{RoleOwner, RoleAdmin, RoleUser, RoleLimitedUser}}}},
		{PlanBusiness, []License{
			{ID: "PLBUSFU", Name: "Business (Full User)", RoleGroup: LicenseFullUser,
				ValidRoles: []Role{RoleOwner, RoleAdmin, RoleUser, RoleLimitedUser, RoleObserver, RoleRestrictedAccess}},
			{ID: "PLBUSSH", Name: "Business (Stakeholder)", RoleGroup: LicenseStakeholder, ValidRoles: []Role{RoleReadOnlyUser, RoleReadOnlyLimitedUser}},
		}},
	}
	for _, tt := range tests {
		a := &Account{Plan: tt.plan}
		if diff := cmp.Diff(tt.want, Licenses(a)); diff != "" {
			t.Errorf("Licenses(%s) (-want +got):\n%s", tt.plan, diff)
		}
		for _, r := range Roles {
			l := LicenseOf(a, r)
			if wantGroup := map[bool]string{true: LicenseStakeholder, false: LicenseFullUser}[r == RoleReadOnlyUser || r == RoleReadOnlyLimitedUser]; l.RoleGroup != wantGroup {
				t.Errorf("LicenseOf(%s, %s) = %s, want %s", tt.plan, r, l.RoleGroup, wantGroup)
			}
			if r.RequiredAbility() == "" || a.Has(r.RequiredAbility()) {
				if !slices.Contains(l.ValidRoles, r) {
					t.Errorf("LicenseOf(%s, %s).ValidRoles = %v, missing the role", tt.plan, r, l.ValidRoles)
				}
			}
		}
	}
}

func TestContactMethodValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		c    ContactMethod
		want []string
	}{
		{ContactMethod{Type: ContactEmail, Label: "Work", Address: "ada@example.com"}, nil},
		{ContactMethod{Type: ContactPhone, Label: "Desk", Address: "5550100,,#12*", CountryCode: 1999}, nil},
		{ContactMethod{Type: ContactSMS, Label: "Mobile", Address: "+15550100", CountryCode: 2000}, []string{
			`Phone number "+15550100" must start with a digit`, "Country code must be a calling code from 1 to 1999"}},
		{ContactMethod{Type: ContactEmail, Label: strings.Repeat("l", 101), Address: "a@b"}, []string{
			`Address "a@b" is not a valid email address`, "Label must be at most 100 characters"}},
		{ContactMethod{Type: "whatsapp_contact_method", Label: "x", Address: "1"}, []string{
			`Type "whatsapp_contact_method" is not one of email_contact_method, phone_contact_method, sms_contact_method`}},
	} {
		var got []string
		if err := tt.c.Validate(); err != nil {
			got = err.(*Error).Errors
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Validate(%+v) (-want +got):\n%s", tt.c, diff)
		}
	}
}
