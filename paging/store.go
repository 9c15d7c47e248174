package paging

import (
	"context"
	"errors"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

// ErrNotFound is wrapped by errors for a page that does not exist.
var ErrNotFound = errors.New("page not found")

// Tx is the page side of an incidents transaction: the store's transaction
// implements it, and paging reaches it from the incidents.Tx that listeners
// and Service.InTx hand over, so that a page and the incident change, the
// timeline events and the jobs it causes are committed together.
type Tx interface {
	incidents.Tx
	// CreatePage stores a new page and sets its ID.
	CreatePage(ctx context.Context, p *Page) error
	// Page reads one page, or an error wrapping ErrNotFound.
	Page(ctx context.Context, id int64) (*Page, error)
	// UpdatePage stores every field of p by its ID.
	UpdatePage(ctx context.Context, p *Page) error
	// IncidentPages lists an incident's pages, oldest first.
	IncidentPages(ctx context.Context, id incidents.ID) ([]*Page, error)
	// CancelJob marks the pending job with key done without running it, and
	// reports whether there was one. A job that is running is left alone.
	// Paging cancels the next step of a page that stops, so that the queue
	// holds no work that would only find the page over.
	CancelJob(ctx context.Context, key string) (bool, error)
	// RescheduleJob moves the pending job with key to run at at, and
	// reports whether there was one. Paging brings a page's next step
	// forward when the current one reached nobody.
	RescheduleJob(ctx context.Context, key string, at time.Time) (bool, error)
	// HasJob reports whether a job with key was ever enqueued (and not yet
	// pruned).
	HasJob(ctx context.Context, key string) (bool, error)
}

// Store reads pages outside a transaction.
type Store interface {
	// Page reads one page, or an error wrapping ErrNotFound.
	Page(ctx context.Context, id int64) (*Page, error)
	// IncidentPages lists an incident's pages, oldest first.
	IncidentPages(ctx context.Context, id incidents.ID) ([]*Page, error)
	// EscalatingPages lists the open pages that still have a step to run
	// (NextAt set), by NextAt.
	EscalatingPages(ctx context.Context) ([]*Page, error)
}

// pageTx returns the page side of tx.
func pageTx(tx incidents.Tx) (Tx, error) {
	ptx, ok := tx.(Tx)
	if !ok {
		return nil, errors.New("paging: the store's transaction does not keep pages")
	}
	return ptx, nil
}
