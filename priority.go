package gatehouse

// Priority is how important an incident is, from P1 (the most) to P5.
type Priority struct {
	// ID never changes: clients keep priority IDs in their configuration.
	ID          string
	Name        string
	Description string
}

// Priorities are the priorities of every account, most important first.
var Priorities = []Priority{
	{ID: "PPRIOR1", Name: "P1", Description: "Critical: a major outage or loss of data, all hands."},
	{ID: "PPRIOR2", Name: "P2", Description: "High: a significant part of the service is down or degraded."},
	{ID: "PPRIOR3", Name: "P3", Description: "Moderate: a minor part of the service is affected."},
	{ID: "PPRIOR4", Name: "P4", Description: "Low: little or no effect on users yet."},
	{ID: "PPRIOR5", Name: "P5", Description: "Informational: worth knowing, nothing to do now."},
}
