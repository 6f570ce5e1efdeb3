// Package gatehouse holds the domain of Gatehouse, a self-hosted server that
// implements PagerDuty's API access keys and the REST and Events APIs they
// open: accounts, plans and their abilities, users and their roles, API keys,
// and the one error type whose codes are PagerDuty's.
//
// The package is pure: it imports no database, network or HTTP code. Storage
// lives in sqlstore, the decisions about who may do what in access, and the
// HTTP doors in restapi and eventsapi.
package gatehouse
