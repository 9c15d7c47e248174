package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
)

var _ deploys.SnapshotStore = (*Store)(nil)

// SaveDeploySnapshot stores the deploys of a service as read for an
// incident, unless a snapshot of that incident and service is stored
// already (deploys.SnapshotStore).
func (s *Store) SaveDeploySnapshot(ctx context.Context, id incidents.ID, service string, at time.Time, ds []deploys.Deploy) error {
	body, err := json.Marshal(ds)
	if err != nil {
		return fmt.Errorf("encoding the deploys of %s for %s: %w", service, id, err)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO deploy_snapshots (incident_id, service, read_at, deploys)
			VALUES (?, ?, ?, ?) ON CONFLICT (incident_id, service) DO NOTHING`, int64(id), service, ms(at), string(body))
		if err != nil {
			return fmt.Errorf("storing the deploys of %s for %s: %w", service, id, err)
		}
		return nil
	})
}

// DeploySnapshots lists the deploys of every service as read when the
// incident was declared (postmortem.Source), in no particular order.
func (s *Store) DeploySnapshots(ctx context.Context, id incidents.ID) ([]deploys.Deploy, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT service, deploys FROM deploy_snapshots WHERE incident_id = ?`, int64(id))
	if err != nil {
		return nil, fmt.Errorf("reading the deploys shown for %s: %w", id, err)
	}
	defer rows.Close()
	var out []deploys.Deploy
	for rows.Next() {
		var service, body string
		if err := rows.Scan(&service, &body); err != nil {
			return nil, fmt.Errorf("reading the deploys shown for %s: %w", id, err)
		}
		var ds []deploys.Deploy
		if err := json.Unmarshal([]byte(body), &ds); err != nil {
			return nil, fmt.Errorf("reading the deploys of %s shown for %s: %w", service, id, err)
		}
		for i := range ds {
			if ds[i].Service == "" {
				ds[i].Service = service
			}
		}
		out = append(out, ds...)
	}
	return out, rows.Err()
}
