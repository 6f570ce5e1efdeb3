// Package e2e holds black-box tests of the built gatehouse binary: each test
// starts `gatehouse serve` as a subprocess on its own port and data directory,
// sets it up through the CLI, and talks to it as PagerDuty's users do, through
// the official go-pagerduty client and against PagerDuty's OpenAPI
// description. The package has no code of its own outside its tests.
package e2e
