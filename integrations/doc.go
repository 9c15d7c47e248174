// Package integrations is the home of Warroom's adapters to outside systems,
// one subpackage each: alert sources (Alertmanager, Grafana, a generic JSON
// format), GitHub, PagerDuty and signed webhooks.
//
// Each subpackage converts the vendor's payloads to domain types at the edge
// and implements the interfaces that the domain declares; nothing outside a
// subpackage sees a vendor type.
package integrations
