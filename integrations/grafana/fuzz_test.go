package grafana

import (
	"testing"

	"github.com/warroomhq/warroom/integrations/internal/alerttest"
)

func FuzzParse(f *testing.F) {
	alerttest.Seed(f,
		`{"version":"1","alerts":[{"status":"firing"}]`,
		`{"alerts":[{"status":"resolved","labels":{"a":"b"},"fingerprint":"","values":{"A":1e308,"B":null}}]}`,
		`{"alerts":[{"status":"firing","dashboardURL":"javascript:alert(1)","panelURL":"HTTP://x","silenceURL":"//x","imageURL":"http:x"}]}`,
		`{"alerts":[{"status":"firing","startsAt":"0001-01-01T00:00:00+01:00","endsAt":"9999-12-31T23:59:59.999999999-23:59"}]}`,
		`{"version":"1","receiver":"a\\","title":"\u0000","alerts":[{"status":"firing","labels":{"":"\u0000","\u00ff":"\ud800"}}]}`,
	)
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := Parse(body)
		alerttest.CheckParsed(t, b, err)
	})
}
