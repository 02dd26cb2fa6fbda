package valkeyaddon_test

import (
	"sort"
	"sync"
	"time"

	"valkeyaddon"
)

// mapStorage is a Storage written in Go: rows in a map, as a service with its
// own store would plug it in.
type mapStorage struct {
	mu       sync.Mutex
	rows     map[[2]string]valkeyaddon.Row
	migrated int
	failWith error // when set, every write fails with it
}

func newMapStorage() *mapStorage {
	return &mapStorage{rows: map[[2]string]valkeyaddon.Row{}}
}

func (m *mapStorage) Migrate() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.migrated++
	return nil
}

func (m *mapStorage) Upsert(row valkeyaddon.Row) (valkeyaddon.Row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return valkeyaddon.Row{}, m.failWith
	}
	key := [2]string{row.AppID, row.AddonType}
	now := time.Now().Truncate(time.Millisecond)
	row.CreatedAt, row.UpdatedAt = now, now
	if old, ok := m.rows[key]; ok {
		row.CreatedAt = old.CreatedAt
	}
	m.rows[key] = row
	return row, nil
}

func (m *mapStorage) Get(appID, addonType string) (valkeyaddon.Row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	row, ok := m.rows[[2]string{appID, addonType}]
	if !ok {
		return row, valkeyaddon.NewError(valkeyaddon.CodeNotFound, "no row for %s/%s", appID, addonType)
	}
	return row, nil
}

func (m *mapStorage) SetStatus(appID, addonType string, status valkeyaddon.Status, message string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return m.failWith
	}
	key := [2]string{appID, addonType}
	row, ok := m.rows[key]
	if !ok {
		return valkeyaddon.NewError(valkeyaddon.CodeNotFound, "no row for %s/%s", appID, addonType)
	}
	row.Status, row.StatusMessage, row.UpdatedAt = status, message, time.Now().Truncate(time.Millisecond)
	m.rows[key] = row
	return nil
}

func (m *mapStorage) Remove(appID, addonType string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := [2]string{appID, addonType}
	if _, ok := m.rows[key]; !ok {
		return valkeyaddon.NewError(valkeyaddon.CodeNotFound, "no row for %s/%s", appID, addonType)
	}
	delete(m.rows, key)
	return nil
}

func (m *mapStorage) List(appID string) ([]valkeyaddon.Row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []valkeyaddon.Row
	for k, r := range m.rows {
		if appID == "" || k[0] == appID {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AppID < out[j].AppID })
	return out, nil
}
