package restapi

import (
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

// timeZone returns the location the time_zone parameter names, in which
// times are written and since/until without an offset are read; UTC when
// the request has none. An unknown zone is a 2001 error.
func (r *request) timeZone() (*time.Location, error) {
	name := r.query("time_zone")
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, gatehouse.InvalidInput(fmt.Sprintf("time_zone %q is not a time zone of the tz database, such as UTC or Europe/Paris", name))
	}
	return loc, nil
}

// timeLayouts are the forms since and until may take: ISO 8601 with an
// offset, or without one (read in the request's time zone), or a date.
var timeLayouts = []struct {
	layout string
	zoned  bool
}{
	{time.RFC3339Nano, true},
	{"2006-01-02T15:04:05.999999999Z0700", true},
	{"2006-01-02T15:04:05.999999999", false},
	{"2006-01-02T15:04", false},
	{"2006-01-02", false},
}

// timeParam reads the time parameter name, such as since; zero when the
// request has none. A value in no form of timeLayouts is a 2001 error.
func (r *request) timeParam(name string, loc *time.Location) (time.Time, error) {
	v := r.query(name)
	if v == "" {
		return time.Time{}, nil
	}
	for _, l := range timeLayouts {
		var t time.Time
		var err error
		if l.zoned {
			t, err = time.Parse(l.layout, v)
		} else {
			t, err = time.ParseInLocation(l.layout, v, loc)
		}
		if err == nil {
			return t, nil
		}
	}
	return time.Time{}, gatehouse.InvalidInput(fmt.Sprintf("%s %q is not a date and time in ISO 8601, such as 2025-07-17T08:42:58Z", name, v))
}

// timeRange reads since and until. It returns a 2001 error when since is
// not before until.
func (r *request) timeRange(loc *time.Location) (since, until time.Time, err error) {
	if since, err = r.timeParam("since", loc); err != nil {
		return
	}
	if until, err = r.timeParam("until", loc); err != nil {
		return
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		err = gatehouse.InvalidInput("since must be before until")
	}
	return
}
