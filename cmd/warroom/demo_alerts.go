package main

import (
	"encoding/json"
	"time"
)

// demoAlertmanagerBody is the body Alertmanager (0.27 and later) posts for
// the demo's checkout alert group, with both instances in status.
func demoAlertmanagerBody(status string, startsAt, endsAt time.Time) []byte {
	alert := func(instance, fingerprint string) map[string]any {
		ends := "0001-01-01T00:00:00Z"
		if !endsAt.IsZero() {
			ends = endsAt.Format(time.RFC3339)
		}
		return map[string]any{
			"status": status,
			"labels": map[string]string{"alertname": "CheckoutHigh5xxRate", "service": "checkout", "severity": "error",
				"env": "prod", "instance": instance},
			"annotations": map[string]string{"summary": "Checkout API returns 502",
				"description": "More than 5% of checkout requests fail with 502 on " + instance + ".",
				"runbook_url": "https://runbooks.example.com/checkout/5xx"},
			"startsAt":     startsAt.Format(time.RFC3339),
			"endsAt":       ends,
			"generatorURL": "https://prometheus.example.com/graph?g0.expr=checkout_5xx_ratio+%3E+0.05",
			"fingerprint":  fingerprint,
		}
	}
	return demoJSON(map[string]any{
		"version":           "4",
		"groupKey":          `{}/{service="checkout"}:{alertname="CheckoutHigh5xxRate"}`,
		"truncatedAlerts":   0,
		"status":            status,
		"receiver":          "warroom",
		"groupLabels":       map[string]string{"alertname": "CheckoutHigh5xxRate"},
		"commonLabels":      map[string]string{"alertname": "CheckoutHigh5xxRate", "service": "checkout", "severity": "error", "env": "prod"},
		"commonAnnotations": map[string]string{"summary": "Checkout API returns 502", "runbook_url": "https://runbooks.example.com/checkout/5xx"},
		"externalURL":       "https://alertmanager.example.com",
		"alerts":            []any{alert("api-1", "6b1f0e8c1d2a3b4c"), alert("api-2", "7c2e1f9d2e3b4c5d")},
	})
}

// demoWarningBody is a sev3 alert: it goes to #payments for triage.
func demoWarningBody(startsAt time.Time) []byte {
	return demoJSON(map[string]any{
		"version":  "4",
		"groupKey": `{}/{service="checkout"}:{alertname="CheckoutSlowQueries"}`,
		"status":   "firing",
		"receiver": "warroom",
		"commonAnnotations": map[string]string{
			"summary": "Checkout database queries are slow"},
		"externalURL": "https://alertmanager.example.com",
		"alerts": []any{map[string]any{
			"status":      "firing",
			"labels":      map[string]string{"alertname": "CheckoutSlowQueries", "service": "checkout", "severity": "warning", "env": "prod"},
			"annotations": map[string]string{"summary": "Checkout database queries are slow"},
			"startsAt":    startsAt.Format(time.RFC3339),
			"endsAt":      "0001-01-01T00:00:00Z",
			"fingerprint": "8d3f2a0e3f4c5d6e",
		}},
	})
}

func demoJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings always encode
	}
	return b
}
