package config_test

import (
	"maps"
	"testing"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/examples"
)

func TestSlackNamesOfTheExample(t *testing.T) {
	cfg, err := config.Load(examples.Config, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	// carol has only an email, so no Slack ID to name.
	want := map[string]string{"U01ALICE": "alice", "U01BOB": "bob", "U01DAVE": "dave"}
	if got := cfg.SlackNames(); !maps.Equal(got, want) {
		t.Errorf("SlackNames = %v, want %v", got, want)
	}
}
