package slackfake

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds what the fake reads of a request body.
const maxBody = 8 << 20

// params are a call's parameters: form fields, or a JSON body's top-level
// fields (strings as they are, other values as JSON text).
type params map[string]string

// has reports whether the parameter was sent at all.
func (p params) has(k string) bool { _, ok := p[k]; return ok }

// bool reads a boolean parameter as Slack does ("1" or "true").
func (p params) bool(k string) bool { return p[k] == "1" || p[k] == "true" }

// int reads an integer parameter, def when it is absent or not positive.
func (p params) int(k string, def int) int {
	n, err := strconv.Atoi(p[k])
	if err != nil || n <= 0 {
		return def
	}
	return n
}

// result is an answer to a call.
type result struct {
	status     int            // HTTP status; 0 means 200
	retryAfter int            // Retry-After header in seconds, if > 0
	body       map[string]any // JSON body; nil for a plain text one
	text       string         // plain text body
}

// ok is a successful Slack answer with fields besides "ok".
func ok(fields map[string]any) result {
	body := map[string]any{"ok": true}
	maps.Copy(body, fields)
	return result{body: body}
}

// fail is a Slack error answer: 200 {"ok":false,"error":code}.
func fail(code string) result { return failWith(code, nil) }

// failWith is a Slack error answer with more fields.
func failWith(code string, fields map[string]any) result {
	body := map[string]any{"ok": false, "error": code}
	maps.Copy(body, fields)
	return result{body: body}
}

// rateLimited is Slack's answer to too many calls.
func rateLimited(retryAfter int) result {
	return result{
		status:     http.StatusTooManyRequests,
		retryAfter: max(retryAfter, 1),
		body:       map[string]any{"ok": false, "error": "ratelimited"},
	}
}

// httpStatus is the HTTP status the result answers with.
func (r result) httpStatus() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// slackError is the Slack error a 200 answer carries, or "".
func (r result) slackError() string {
	if r.httpStatus() != http.StatusOK {
		return ""
	}
	s, _ := r.body["error"].(string)
	return s
}

func (r result) write(w http.ResponseWriter) {
	if r.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(r.retryAfter))
	}
	if r.body == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(r.httpStatus())
		_, _ = io.WriteString(w, r.text)
		return
	}
	b, err := json.Marshal(r.body)
	if err != nil {
		// Only the fake's own values are marshalled, so this is a bug.
		http.Error(w, "slackfake: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(r.httpStatus())
	_, _ = w.Write(b)
}

// faultResult is the answer a failing fault gives.
func faultResult(ft Fault) result {
	if ft.Error != "" {
		return fail(ft.Error)
	}
	if ft.Status == http.StatusTooManyRequests {
		secs := int((ft.RetryAfter + time.Second - 1) / time.Second)
		return rateLimited(secs)
	}
	// Slack answers 5xx with an HTML page; a line of text does as well.
	return result{status: ft.Status, text: http.StatusText(ft.Status) + "\n"}
}

func (f *Fake) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", f.serveAPI)
	mux.HandleFunc("POST /response/{n}", f.serveResponseURL)
	return mux
}

// serveAPI answers a Web API call: it records the call, applies any fault,
// checks the token and runs the method.
func (f *Fake) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	p, token, badRequest := readParams(r)
	f.serve(w, r, method, p, func() result {
		h, known := methods[method]
		switch {
		case !known:
			return fail("unknown_method")
		case badRequest != "":
			return fail(badRequest)
		case token == "":
			return fail("not_authed")
		case token != f.token:
			return fail("invalid_auth")
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return h(f, p)
	})
}

// serve records a call, answers it with a fault if one applies and
// otherwise with handle's result.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request, method string, p params, handle func() result) {
	f.mu.Lock()
	f.perMethod[method]++
	n := f.perMethod[method]
	f.calls = append(f.calls, Call{Method: method, Params: p, At: f.now(), Received: time.Now()})
	idx := len(f.calls) - 1
	ft, faulted := f.pendingFor(method)
	fn := f.faultFn
	f.mu.Unlock()
	if !faulted && fn != nil {
		ft = fn(method, n)
		faulted = !ft.isZero()
	}

	var res result
	if faulted && ft.fails() {
		// The call never reaches Slack: wait, then answer the fault.
		f.wait(r.Context(), ft.Delay)
		res = faultResult(ft)
		f.finish(idx, res, true)
	} else {
		// Slack carries the call out; a fault may only delay the answer.
		res = handle()
		f.finish(idx, res, faulted)
		if faulted {
			f.wait(r.Context(), ft.Delay)
		}
	}
	res.write(w)
}

// finish records how a call was answered.
func (f *Fake) finish(idx int, res result, faulted bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &f.calls[idx]
	c.Status, c.Error, c.Faulted = res.httpStatus(), res.slackError(), faulted
}

// wait sleeps for d (real time), cut short if the request is cancelled or
// the fake closed.
func (f *Fake) wait(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-f.closed:
	}
}

// readParams reads a Web API call's parameters from the query and the
// body (form or JSON), and its token from the Authorization header or, for
// a form, the token field. badRequest is the Slack error for a body that
// cannot be read.
func readParams(r *http.Request) (p params, token, badRequest string) {
	p = params{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return p, "", "invalid_form_data"
	}
	isJSON := false
	if len(body) > 0 {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch ct {
		case "application/json":
			isJSON = true
			fields, ok := jsonParams(body)
			if !ok {
				return p, "", "invalid_json"
			}
			maps.Copy(p, fields)
		case "application/x-www-form-urlencoded", "":
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return p, "", "invalid_form_data"
			}
			for k, v := range form {
				p[k] = v[0]
			}
		default:
			return p, "", "invalid_form_data"
		}
	}
	if bearer, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found {
		token = bearer
	} else if !isJSON {
		// Slack takes a token in a form, never in a JSON body.
		token = p["token"]
	}
	delete(p, "token")
	return p, token, ""
}

// jsonParams flattens a JSON object's top-level fields into params.
func jsonParams(body []byte) (params, bool) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return nil, false
	}
	p := params{}
	for k, raw := range fields {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			p[k] = s
		} else {
			p[k] = string(raw)
		}
	}
	return p, true
}

// cursor encodes a pagination cursor the way Slack's look: base64 of
// "kind:value".
func cursor(kind, value string) string {
	return base64.StdEncoding.EncodeToString([]byte(kind + ":" + value))
}

// parseCursor decodes a cursor of the given kind.
func parseCursor(c, kind string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return "", false
	}
	return strings.CutPrefix(string(b), kind+":")
}

// page cuts items to one page of limit from the offset in the "offset"
// cursor, and returns the next page's cursor ("" at the end).
func page[T any](items []T, cur string, limit int) (out []T, next string, badCursor bool) {
	off := 0
	if cur != "" {
		v, ok := parseCursor(cur, "offset")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 || n > len(items) {
			return nil, "", true
		}
		off = n
	}
	end := min(off+limit, len(items))
	if end < len(items) {
		next = cursor("offset", strconv.Itoa(end))
	}
	return items[off:end], next, false
}

// serveResponseURL answers a post to a response URL the fake minted.
func (f *Fake) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	p, isJSON := jsonParams(body)
	n, _ := strconv.Atoi(r.PathValue("n"))
	f.serve(w, r, "response_url", p, func() result {
		if !isJSON {
			return result{status: http.StatusBadRequest, text: "invalid_payload"}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.respond(n, p, body)
	})
}

// respond carries out a response URL post: an in_channel reply becomes a
// message by the bot, any other an ephemeral message. replace_original and
// delete_original are only recorded. Caller holds mu.
func (f *Fake) respond(n int, p params, body []byte) result {
	u := f.respURLs[n]
	switch {
	case u == nil || f.now().Sub(u.minted) > responseURLLife:
		return result{status: http.StatusNotFound, body: map[string]any{"ok": false, "error": "expired_url"}}
	case u.uses >= responseURLUses:
		return result{status: http.StatusNotFound, body: map[string]any{"ok": false, "error": "used_url"}}
	}
	blocks, code := parseBlocks(p)
	if code == "" && p["text"] == "" && blocks == nil && !p.bool("delete_original") {
		code = "no_text"
	}
	if code != "" {
		return fail(code)
	}
	u.uses++
	f.responses = append(f.responses, json.RawMessage(body))
	if p.bool("replace_original") || p.bool("delete_original") {
		return ok(nil)
	}
	c := f.lookup(u.channel, true)
	if p["response_type"] == "in_channel" && c != nil {
		f.addMessage(c, f.botUser, p["text"], blocks, "", nil)
	} else {
		f.addEphemeral(u.channel, u.user, p["text"], blocks, p["thread_ts"])
	}
	return ok(nil)
}
