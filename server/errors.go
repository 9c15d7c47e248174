package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/warroomhq/warroom/incidents"
)

// StatusError is an error that carries its HTTP reply: the status code and a
// message for the caller. Handlers return it for failures that are not domain
// errors (a bad signature, a malformed body); WriteError sends it as it is.
type StatusError struct {
	Code int    // HTTP status code
	Msg  string // shown to the caller
	Err  error  // the cause, for logs and errors.Is; never shown
}

func (e *StatusError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the cause.
func (e *StatusError) Unwrap() error { return e.Err }

// WriteError replies to r with err as a JSON error body. It is the one place
// where errors become HTTP statuses:
//
//   - *StatusError: its Code and Msg
//   - *http.MaxBytesError: 413
//   - errors.Is(err, incidents.ErrNotFound): 404
//   - *incidents.ValidationError: 400
//   - *incidents.TransitionError: 422
//   - errors.Is(err, incidents.ErrConflict): 409 (the caller may retry)
//   - anything else: 500 with a generic message; the error is logged
//
// Messages of the domain errors are written for people and shown as they are.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := errorReply(err)
	log := loggerFrom(r)
	var se *StatusError
	switch {
	case errors.As(err, &se) && se.Err == nil:
		// A reply the handler chose, with nothing more to tell; a handler
		// that panicked has been logged by the recovery already.
		log.Debug("request refused", "status", code, "err", err)
	case code >= 500 && r.Context().Err() != nil:
		// The caller went away; nobody reads this reply.
		log.Debug("request ended by its caller", "err", err)
	case code >= 500:
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	default:
		log.Debug("request refused", "status", code, "err", err)
	}
	WriteJSON(w, code, errorBody{Error: msg})
}

type errorBody struct {
	Error string `json:"error"`
}

func errorReply(err error) (code int, msg string) {
	var (
		se  *StatusError
		mbe *http.MaxBytesError
		nfe *incidents.NotFoundError
		ve  *incidents.ValidationError
		te  *incidents.TransitionError
	)
	switch {
	case err == nil:
		return http.StatusInternalServerError, "internal server error"
	case errors.As(err, &se):
		if se.Msg == "" {
			return se.Code, http.StatusText(se.Code)
		}
		return se.Code, se.Msg
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)
	case errors.As(err, &nfe):
		return http.StatusNotFound, nfe.Error()
	case errors.Is(err, incidents.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.As(err, &ve):
		return http.StatusBadRequest, ve.Msg
	case errors.As(err, &te):
		return http.StatusUnprocessableEntity, te.Msg
	case errors.Is(err, incidents.ErrConflict):
		return http.StatusConflict, "the incident changed at the same time; try again"
	}
	return http.StatusInternalServerError, "internal server error"
}

// WriteJSON replies with code and v encoded as JSON. Should v fail to encode,
// it replies 500 with a JSON error instead, since nothing has been sent yet.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		buf.Reset()
		buf.WriteString(`{"error":"internal server error"}` + "\n")
		code = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// DecodeJSON decodes the JSON body of r into v. The error it returns is a
// *StatusError that WriteError turns into 400 for an empty or malformed body,
// a value of the wrong type or trailing data after the value, and into 413 for
// a body over the size limit.
//
// Fields that v does not declare are ignored, since senders of webhooks add
// fields over time. Behind Server's middleware the body is already limited to
// Options.MaxBodyBytes; elsewhere DecodeJSON limits it to DefaultMaxBodyBytes
// through w.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if r.Body == nil || r.Body == http.NoBody {
		return &StatusError{Code: http.StatusBadRequest, Msg: "request body is empty"}
	}
	body := r.Body
	if info := infoFrom(r); info == nil || !info.bodyLimited {
		body = http.MaxBytesReader(w, r.Body, DefaultMaxBodyBytes)
	}
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return &StatusError{Code: http.StatusBadRequest, Msg: "request body must hold a single JSON value"}
	default:
		return decodeError(err)
	}
}

// ReadBody reads the whole body of r. The error it returns is a
// *StatusError: 400 for an empty body, 413 for a body over the size limit
// (the route's, behind Server's middleware; DefaultMaxBodyBytes elsewhere).
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, &StatusError{Code: http.StatusBadRequest, Msg: "request body is empty"}
	}
	body := r.Body
	if info := infoFrom(r); info == nil || !info.bodyLimited {
		body = http.MaxBytesReader(w, r.Body, DefaultMaxBodyBytes)
	}
	data, err := io.ReadAll(body)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, &StatusError{Code: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit), Err: err}
	case err != nil:
		return nil, &StatusError{Code: http.StatusBadRequest, Msg: "could not read the request body", Err: err}
	case len(data) == 0:
		return nil, &StatusError{Code: http.StatusBadRequest, Msg: "request body is empty"}
	}
	return data, nil
}

func decodeError(err error) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return &StatusError{Code: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit), Err: err}
	case errors.Is(err, io.EOF):
		return &StatusError{Code: http.StatusBadRequest, Msg: "request body is empty", Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &StatusError{Code: http.StatusBadRequest, Msg: "request body is not valid JSON: it ends too early", Err: err}
	case errors.As(err, &se):
		return &StatusError{Code: http.StatusBadRequest, Msg: fmt.Sprintf("request body is not valid JSON at byte %d: %v", se.Offset, se), Err: err}
	case errors.As(err, &ute):
		msg := fmt.Sprintf("request body has JSON %s where %s is expected", ute.Value, ute.Type)
		if ute.Field != "" {
			msg = fmt.Sprintf("field %q of the request body must be %s, not JSON %s", ute.Field, ute.Type, ute.Value)
		}
		return &StatusError{Code: http.StatusBadRequest, Msg: msg, Err: err}
	}
	return &StatusError{Code: http.StatusBadRequest, Msg: "could not read the request body as JSON", Err: err}
}

// loggerFrom returns the request's logger (with its request ID) when r came
// through the server's middleware, and slog.Default otherwise.
func loggerFrom(r *http.Request) *slog.Logger {
	if info := infoFrom(r); info != nil {
		return info.log
	}
	return slog.Default()
}
