package alertmanager

import (
	"reflect"
	"testing"

	"github.com/warroomhq/warroom/integrations/internal/alerttest"
)

func FuzzParse(f *testing.F) {
	alerttest.Seed(f,
		`{"alerts":[{"status":"firing"}]`,
		`{"alerts":[{"status":"resolved","labels":{"a":"b"},"fingerprint":""}],"externalURL":"http://am:9093/"}`,
		`{"alerts":[{"status":"firing","annotations":{"dashboard":"javascript:alert(1)","grafana_url":"HTTP://x"}}]}`,
		`{"alerts":[{"status":"firing","startsAt":"0001-01-01T00:00:00+01:00","endsAt":"9999-12-31T23:59:59.999999999-23:59"}]}`,
		`{"version":"4","receiver":"a\\","alerts":[{"status":"firing","labels":{"":"\u0000","\u00ff":"\ud800"}}]}`,
	)
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := Parse(body)
		alerttest.CheckParsed(t, b, err)
		if err != nil {
			return
		}
		// The one-pass decoding must read a body as the careful one does.
		slow, err := parseSlow(body)
		if err != nil || !reflect.DeepEqual(b, slow) {
			t.Fatalf("fast and slow paths disagree:\nfast %+v\nslow %+v, %v", b, slow, err)
		}
	})
}
