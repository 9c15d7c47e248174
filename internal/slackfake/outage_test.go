package slackfake

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func TestDownFailsEveryCallUntilRecover(t *testing.T) {
	f, api, _ := newFake(t)
	id := f.AddChannel("ops", alice)
	f.Join(id, f.BotUser())

	f.Down(Fault{Status: http.StatusServiceUnavailable})
	_, _, err := api.PostMessage(id, slack.MsgOptionText("lost", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusServiceUnavailable {
		t.Fatalf("post while down: want 503, got %v", err)
	}
	if _, err := api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: id}); !errors.As(err, &sc) {
		t.Fatalf("another method while down: want a status error, got %v", err)
	}
	if began, ended := f.Outage(); began.IsZero() || !ended.IsZero() {
		t.Fatalf("Outage() while down = %v, %v", began, ended)
	}
	f.Recover()
	if _, _, err := api.PostMessage(id, slack.MsgOptionText("kept", false)); err != nil {
		t.Fatalf("post after Recover: %v", err)
	}
	msgs := f.Messages(id)
	if len(msgs) != 1 || msgs[0].Text != "kept" {
		t.Fatalf("messages: %+v; want only the one posted after Recover", msgs)
	}
	calls := f.Calls("chat.postMessage")
	if len(calls) != 2 || !calls[0].Faulted || calls[1].Faulted {
		t.Fatalf("calls: %+v", calls)
	}
	if calls[0].Received.IsZero() || calls[1].Received.Before(calls[0].Received) {
		t.Fatalf("Received times: %v, %v", calls[0].Received, calls[1].Received)
	}
	if _, ended := f.Outage(); ended.IsZero() {
		t.Fatal("Outage() has no end after Recover")
	}
}

func TestRecoverRestoresTheFaultFunc(t *testing.T) {
	f, api, _ := newFake(t)
	f.SetFaultFunc(func(method string, n int) Fault {
		if method == "auth.test" {
			return Fault{Error: "account_inactive"}
		}
		return Fault{}
	})
	f.Down(Fault{Status: http.StatusBadGateway})
	var sc slack.StatusCodeError
	if _, err := api.AuthTest(); !errors.As(err, &sc) || sc.Code != http.StatusBadGateway {
		t.Fatalf("auth.test while down: %v", err)
	}
	f.Recover()
	slackErr(t, func() error { _, err := api.AuthTest(); return err }(), "account_inactive")
}

func TestHangHoldsCallsUntilRecover(t *testing.T) {
	f, api, _ := newFake(t)
	f.Hang(0)
	done := make(chan error, 1)
	go func() {
		_, err := api.AuthTestContext(context.Background())
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for f.CountCalls("auth.test", false) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the call did not arrive")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("the call was answered during the hang: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	f.Recover()
	select {
	case err := <-done:
		var sc slack.StatusCodeError
		if !errors.As(err, &sc) || sc.Code != http.StatusGatewayTimeout {
			t.Fatalf("hung call after Recover: want 504, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the hung call was not answered after Recover")
	}
	if _, err := api.AuthTest(); err != nil {
		t.Fatalf("after Recover: %v", err)
	}
}

func TestHangEndsOnClose(t *testing.T) {
	f, api, _ := newFake(t)
	f.Hang(http.StatusServiceUnavailable)
	done := make(chan error, 1)
	go func() { _, err := api.AuthTest(); done <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for f.CountCalls("auth.test", false) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the call did not arrive")
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a hung call succeeded after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hung call")
	}
}
