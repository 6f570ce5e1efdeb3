package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

func TestContactMethods(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
		ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleLimitedUser)
		bob := storetest.MustCreateUser(t, s, acme, "bob", gatehouse.RoleUser)
		sc := asUser(s, acme, ada)

		phone := &gatehouse.ContactMethod{Type: gatehouse.ContactPhone, Label: " Mobile ", Address: "5550100", CountryCode: 1, SendShortEmail: true}
		if err := sc.CreateContactMethod(ctx, ada.ID, phone); err != nil {
			t.Fatal(err)
		}
		email := &gatehouse.ContactMethod{Type: gatehouse.ContactEmail, Label: "Pager", Address: "Ada.Pager@example.com", SendShortEmail: true}
		if err := sc.CreateContactMethod(ctx, ada.ID, email); err != nil {
			t.Fatal(err)
		}
		methods, err := sc.ContactMethods(ctx, ada.ID)
		if err != nil || len(methods) != 3 {
			t.Fatalf("ContactMethods = %+v, %v; want the default and two more", methods, err)
		}
		wantPhone := &gatehouse.ContactMethod{ID: phone.ID, AccountID: acme.ID, UserID: ada.ID, Type: gatehouse.ContactPhone,
			Label: "Mobile", Address: "5550100", CountryCode: 1, CreatedAt: phone.CreatedAt}
		if diff := cmp.Diff(wantPhone, methods[1]); diff != "" {
			t.Errorf("phone contact method (-want +got):\n%s", diff)
		}
		if got := methods[2]; got.Address != "Ada.Pager@example.com" || !got.SendShortEmail || got.CountryCode != 0 {
			t.Errorf("email contact method = %+v, want its address as given and short emails", got)
		}

		for _, tt := range []struct {
			name    string
			c       gatehouse.ContactMethod
			problem string
		}{
			{"bad email", gatehouse.ContactMethod{Type: gatehouse.ContactEmail, Label: "x", Address: "nope"}, `Address "nope" is not a valid email address`},
			{"letters in a number", gatehouse.ContactMethod{Type: gatehouse.ContactSMS, Label: "x", Address: "555-CALL", CountryCode: 1}, `Phone number "555-CALL" may only hold the digits 0-9 and the symbols , * and #`},
			{"long number", gatehouse.ContactMethod{Type: gatehouse.ContactPhone, Label: "x", Address: strings.Repeat("1", 41), CountryCode: 1}, "Phone numbers must be at most 40 characters"},
			{"no country code", gatehouse.ContactMethod{Type: gatehouse.ContactPhone, Label: "x", Address: "5550100"}, "Country code must be a calling code from 1 to 1999"},
			{"push", gatehouse.ContactMethod{Type: "push_notification_contact_method", Label: "x", Address: "x"}, "Push notification contact methods are added by PagerDuty's mobile app, not through the API"},
			{"unknown type", gatehouse.ContactMethod{Type: "fax_contact_method", Label: "x", Address: "x"}, `Type "fax_contact_method" is not one of email_contact_method, phone_contact_method, sms_contact_method`},
			{"no label", gatehouse.ContactMethod{Type: gatehouse.ContactEmail, Address: "x@example.com"}, "Label must not be empty"},
			{"taken", gatehouse.ContactMethod{Type: gatehouse.ContactPhone, Label: "Again", Address: "5550100", CountryCode: 1}, "Address has already been taken"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantProblem(t, sc.CreateContactMethod(ctx, ada.ID, &tt.c), gatehouse.CodeInvalidInput, tt.problem)
			})
		}
		// The same number for texts is another contact method.
		if err := sc.CreateContactMethod(ctx, ada.ID, &gatehouse.ContactMethod{Type: gatehouse.ContactSMS, Label: "SMS", Address: "5550100", CountryCode: 1}); err != nil {
			t.Errorf("an SMS method for a phone number: %v", err)
		}

		got, err := sc.UpdateContactMethod(ctx, ada.ID, phone.ID, func(c *gatehouse.ContactMethod) { c.Label, c.CountryCode = "Work phone", 44 })
		if err != nil || got.Label != "Work phone" || got.CountryCode != 44 || got.Address != "5550100" {
			t.Fatalf("UpdateContactMethod = %+v, %v", got, err)
		}
		if got, err := sc.ContactMethod(ctx, ada.ID, phone.ID); err != nil || got.Label != "Work phone" {
			t.Errorf("ContactMethod after update = %+v, %v", got, err)
		}
		_, err = sc.UpdateContactMethod(ctx, ada.ID, phone.ID, func(c *gatehouse.ContactMethod) { c.Type = gatehouse.ContactSMS })
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Type cannot change from phone_contact_method to sms_contact_method: add a new contact method instead")

		// Who may, and where.
		wantCode(t, asUser(s, acme, bob).CreateContactMethod(ctx, ada.ID, &gatehouse.ContactMethod{Type: gatehouse.ContactEmail, Label: "x", Address: "x@example.com"}), gatehouse.CodeForbidden)
		_, err = asUser(s, acme, bob).UpdateContactMethod(ctx, ada.ID, phone.ID, func(c *gatehouse.ContactMethod) { c.Label = "mine" })
		wantCode(t, err, gatehouse.CodeForbidden)
		wantCode(t, asUser(s, acme, bob).DeleteContactMethod(ctx, ada.ID, phone.ID), gatehouse.CodeForbidden)
		if err := asUser(s, acme, owner).CreateContactMethod(ctx, ada.ID, &gatehouse.ContactMethod{Type: gatehouse.ContactEmail, Label: "By the owner", Address: "o@example.com"}); err != nil {
			t.Errorf("the owner adding a contact method of ada: %v", err)
		}
		theirs := s.Scope(other.ID, sqlstore.CLI(other))
		_, err = theirs.ContactMethod(ctx, ada.ID, phone.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		wantCode(t, theirs.DeleteContactMethod(ctx, ada.ID, phone.ID), gatehouse.CodeNotFound)
		// Another user's contact method is not found under ada.
		_, err = sc.ContactMethod(ctx, bob.ID, phone.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		wantCode(t, asUser(s, acme, owner).DeleteContactMethod(ctx, bob.ID, phone.ID), gatehouse.CodeNotFound)

		// Deleting a contact method deletes the rules that use it.
		rule := &gatehouse.NotificationRule{ContactMethodID: phone.ID, StartDelayInMinutes: 5, Urgency: "low"}
		if err := sc.CreateNotificationRule(ctx, ada.ID, rule); err != nil {
			t.Fatal(err)
		}
		if err := sc.DeleteContactMethod(ctx, ada.ID, phone.ID); err != nil {
			t.Fatal(err)
		}
		_, err = sc.ContactMethod(ctx, ada.ID, phone.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		_, err = sc.NotificationRule(ctx, ada.ID, rule.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		records, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootType: "user_reference", RootID: ada.ID, Limit: 1})
		if err != nil || len(records) != 1 || len(records[0].References) != 2 ||
			records[0].References[0].Removed[0] != (gatehouse.Ref{Type: "phone_contact_method_reference", ID: phone.ID, Summary: "Work phone"}) ||
			records[0].References[1].Removed[0].ID != rule.ID {
			t.Errorf("audit of DeleteContactMethod = %+v, %v; want the method and its rule removed", records, err)
		}
	})
}

func TestNotificationRules(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleObserver)
		bob := storetest.MustCreateUser(t, s, acme, "bob", gatehouse.RoleUser)
		sc := asUser(s, acme, ada)
		methods, err := sc.ContactMethods(ctx, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		bobs, err := sc.ContactMethods(ctx, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		emailID := methods[0].ID

		low := &gatehouse.NotificationRule{ContactMethodID: emailID, StartDelayInMinutes: 10, Urgency: "low"}
		if err := sc.CreateNotificationRule(ctx, ada.ID, low); err != nil {
			t.Fatal(err)
		}
		later := &gatehouse.NotificationRule{ContactMethodID: emailID, StartDelayInMinutes: 15, Urgency: "high"}
		if err := sc.CreateNotificationRule(ctx, ada.ID, later); err != nil {
			t.Fatal(err)
		}
		delays := func(urgency string) []int {
			t.Helper()
			rules, err := sc.NotificationRules(ctx, ada.ID, urgency)
			if err != nil {
				t.Fatal(err)
			}
			var out []int
			for _, n := range rules {
				out = append(out, n.StartDelayInMinutes)
			}
			return out
		}
		for urgency, want := range map[string][]int{"": {0, 15, 10}, "high": {0, 15}, "low": {10}} {
			if diff := cmp.Diff(want, delays(urgency)); diff != "" {
				t.Errorf("NotificationRules(%q) delays (-want +got):\n%s", urgency, diff)
			}
		}
		if later.Summary() != "15 minutes: channel "+emailID {
			t.Errorf("Summary() = %q", later.Summary())
		}

		for _, tt := range []struct {
			name    string
			n       gatehouse.NotificationRule
			problem string
		}{
			{"another user's contact method", gatehouse.NotificationRule{ContactMethodID: bobs[0].ID, Urgency: "high"}, `Contact method "` + bobs[0].ID + `" is not one of this user's contact methods`},
			{"unknown contact method", gatehouse.NotificationRule{ContactMethodID: "PNOPE00", Urgency: "high"}, `Contact method "PNOPE00" is not one of this user's contact methods`},
			{"no contact method", gatehouse.NotificationRule{Urgency: "high"}, "Contact method must name one of the user's contact methods"},
			{"negative delay", gatehouse.NotificationRule{ContactMethodID: emailID, StartDelayInMinutes: -1, Urgency: "high"}, "Start delay in minutes must be from 0 to 2147483647"},
			{"huge delay", gatehouse.NotificationRule{ContactMethodID: emailID, StartDelayInMinutes: 1 << 40, Urgency: "high"}, "Start delay in minutes must be from 0 to 2147483647"},
			{"unknown urgency", gatehouse.NotificationRule{ContactMethodID: emailID, Urgency: "urgent"}, `Urgency "urgent" is not one of high, low`},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantProblem(t, sc.CreateNotificationRule(ctx, ada.ID, &tt.n), gatehouse.CodeInvalidInput, tt.problem)
			})
		}

		got, err := sc.UpdateNotificationRule(ctx, ada.ID, later.ID, func(n *gatehouse.NotificationRule) { n.StartDelayInMinutes, n.Urgency = 3, "low" })
		if err != nil || got.StartDelayInMinutes != 3 || got.Urgency != "low" || got.ContactMethodID != emailID {
			t.Fatalf("UpdateNotificationRule = %+v, %v", got, err)
		}
		_, err = sc.UpdateNotificationRule(ctx, ada.ID, later.ID, func(n *gatehouse.NotificationRule) { n.ContactMethodID = bobs[0].ID })
		wantProblem(t, err, gatehouse.CodeInvalidInput, `Contact method "`+bobs[0].ID+`" is not one of this user's contact methods`)
		_, err = asUser(s, acme, bob).UpdateNotificationRule(ctx, ada.ID, later.ID, func(n *gatehouse.NotificationRule) { n.Urgency = "high" })
		wantCode(t, err, gatehouse.CodeForbidden)
		_, err = sc.NotificationRule(ctx, bob.ID, later.ID)
		wantCode(t, err, gatehouse.CodeNotFound)

		if err := sc.DeleteNotificationRule(ctx, ada.ID, later.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, sc.DeleteNotificationRule(ctx, ada.ID, later.ID), gatehouse.CodeNotFound)
		if diff := cmp.Diff([]int{0, 10}, delays("")); diff != "" {
			t.Errorf("rules after delete (-want +got):\n%s", diff)
		}
	})
}
