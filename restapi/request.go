package restapi

import (
	"context"
	"net/http"

	"github.com/gatehouse-dev/gatehouse/access"
)

// request is what a route's handler is given: the HTTP request, who makes
// it, and what the handler needs to answer.
type request struct {
	http      *http.Request
	ctx       context.Context
	principal *access.Principal
	// externalURL is the server's URL as clients reach it, for links.
	externalURL string
}
