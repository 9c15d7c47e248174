package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"
)

// routeUnmatched is the route label of requests that match no pattern, so
// that metrics never carry raw paths.
const routeUnmatched = "unmatched"

// requestInfo is what the middleware hands down in the request context.
type requestInfo struct {
	log         *slog.Logger // with request_id
	bodyLimited bool         // the body is behind http.MaxBytesReader already
}

type infoKey struct{}

func infoFrom(r *http.Request) *requestInfo {
	info, _ := r.Context().Value(infoKey{}).(*requestInfo)
	return info
}

// serveHTTP is the middleware around the mux, outermost first: request ID and
// logger, body limit, metrics and request log, panic recovery, JSON replies
// for the mux's own 404 and 405, then the route.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// Ask the mux which pattern will serve r, for the route label; the mux
	// sets r.Pattern only on the request it is given, which may be a copy.
	_, pattern := s.mux.Handler(r)
	route := pattern
	if route == "" {
		route = routeUnmatched
	}

	id := requestID(r)
	w.Header().Set("X-Request-Id", id)
	log := s.log.With("request_id", id)
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, &requestInfo{log: log, bodyLimited: true}))
	if r.Body != nil {
		// The original writer, so that net/http closes the connection after
		// an oversized body.
		limit := s.opts.MaxBodyBytes
		if l, ok := s.limits[pattern]; ok {
			limit = l
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}

	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		elapsed := time.Since(start)
		s.metrics.observe(route, code, elapsed)
		if log.Enabled(r.Context(), slog.LevelDebug) {
			// The path only: query strings and headers may carry secrets.
			log.Debug("http request", "method", r.Method, "route", route, "path", r.URL.Path,
				"status", code, "bytes", sw.bytes, "duration", elapsed)
		}
	}()

	var h http.Handler = s.mux
	if pattern == "" {
		h = jsonMuxErrors{s.mux}
	}
	s.recoverPanics(sw, r, h)
}

// recoverPanics serves r with h and turns a panic into a logged 500, so that
// one bad request does not end the process.
func (s *Server) recoverPanics(sw *statusWriter, r *http.Request, h http.Handler) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			panic(p)
		}
		loggerFrom(r).Error("panic serving http", "method", r.Method, "path", r.URL.Path,
			"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		if sw.code != 0 {
			// Part of the reply is out: abort the connection rather than
			// let a truncated reply look complete.
			panic(http.ErrAbortHandler)
		}
		WriteError(sw, r, &StatusError{Code: http.StatusInternalServerError, Msg: "internal server error"})
	}()
	h.ServeHTTP(sw, r)
}

// statusWriter records the status and size of a reply.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers flush through the wrapper.
func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// jsonMuxErrors serves requests that match no pattern, replacing the mux's
// plain-text 404 and 405 replies with JSON ones. Redirects pass through.
type jsonMuxErrors struct{ mux *http.ServeMux }

func (j jsonMuxErrors) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	j.mux.ServeHTTP(&muxErrorWriter{ResponseWriter: w, r: r}, r)
}

type muxErrorWriter struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (w *muxErrorWriter) WriteHeader(code int) {
	if w.replaced {
		return
	}
	switch code {
	case http.StatusNotFound:
		w.replaced = true
		WriteError(w.ResponseWriter, w.r, &StatusError{Code: code, Msg: "no such route: " + w.r.URL.Path})
	case http.StatusMethodNotAllowed:
		w.replaced = true
		msg := fmt.Sprintf("method %s is not allowed on %s", w.r.Method, w.r.URL.Path)
		if allow := w.Header().Get("Allow"); allow != "" {
			msg += "; use " + allow
		}
		WriteError(w.ResponseWriter, w.r, &StatusError{Code: code, Msg: msg})
	default:
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *muxErrorWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// requestID returns the caller's X-Request-Id when it is short and plain, and
// a new random one otherwise.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); validRequestID(id) {
		return id
	}
	return rand.Text()
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// codeLabel formats a status code for the code label.
func codeLabel(code int) string { return strconv.Itoa(code) }
