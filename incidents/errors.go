package incidents

import (
	"errors"
	"fmt"
)

// ErrNotFound is wrapped by errors for an incident that does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is wrapped when an incident changed under a writer (its version
// moved); the caller may retry.
var ErrConflict = errors.New("incident changed concurrently")

// NotFoundError names the incident that was not found.
type NotFoundError struct{ ID ID }

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s does not exist", e.ID) }

// Unwrap lets errors.Is(err, ErrNotFound) match.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// ValidationError is bad input from a person or a system, with a message that
// says what to do instead. Adapters show Msg as it is.
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string { return e.Msg }

// TransitionError is a lifecycle move that the rules refuse. Its message says
// why and what is allowed instead.
type TransitionError struct {
	ID   ID
	From Status
	To   Status
	Msg  string
}

func (e *TransitionError) Error() string { return e.Msg }

// IsUserError reports whether err is the person's to fix (bad input, a
// refused move, an unknown incident) rather than a fault of Warroom's. Adapters
// show such errors as they are and log the others.
func IsUserError(err error) bool {
	var v *ValidationError
	var t *TransitionError
	return errors.As(err, &v) || errors.As(err, &t) || errors.Is(err, ErrNotFound)
}
