package usermgmt_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// writerFeature is an EventWriter that records what it is handed and
// fails when told to.
type writerFeature struct {
	mu   sync.Mutex
	fail error
	got  []usermgmt.AuditEntry
}

func (w *writerFeature) FeatureName() string                 { return "writer" }
func (w *writerFeature) InitFeature(*usermgmt.Manager) error { return nil }
func (w *writerFeature) WantsEvent(action string) bool       { return action != usermgmt.AuditLoginFailed }
func (w *writerFeature) WriteEvent(ctx context.Context, tx usermgmt.Store, e usermgmt.AuditEntry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return w.fail
	}
	// The entry is visible in the writer's transaction, with its ID.
	es, err := tx.Audit(ctx, usermgmt.AuditQuery{Actions: []string{e.Action}})
	if err != nil {
		return err
	}
	if len(es) == 0 || es[len(es)-1].ID != e.ID && es[0].ID != e.ID {
		return errors.New("the entry is not in the writer's transaction")
	}
	w.got = append(w.got, e)
	return nil
}

// TestEventWriterSameTransaction: an EventWriter writes in the change's
// transaction, and its failure rolls the change back.
func TestEventWriterSameTransaction(t *testing.T) {
	w := &writerFeature{}
	m := newManager(t, openStore(t), newFakeClock(), usermgmt.WithFeature(w))
	ctx := context.Background()
	u := mustCreate(t, m, "jane_doe")
	if len(w.got) != 1 || w.got[0].Action != usermgmt.AuditUserCreated || w.got[0].SubjectUUID != u.UUID || w.got[0].ID == 0 {
		t.Fatalf("written: %+v", w.got)
	}

	// Outside InTx the entry and the writer's rows get one transaction.
	if err := m.AppendAudit(ctx, m.Store(), usermgmt.AuditEntry{Action: "outside"}); err != nil {
		t.Fatal(err)
	}
	if len(w.got) != 2 || w.got[1].Action != "outside" {
		t.Fatalf("written: %+v", w.got)
	}

	boom := errors.New("boom")
	w.fail = boom
	if _, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "john_doe", Email: "john@example.com", Password: "Correct-horse-9"}); !errors.Is(err, boom) {
		t.Fatalf("CreateUser with a failing writer: %v", err)
	}
	if _, err := m.Store().UserByUsername(ctx, "john_doe"); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Fatalf("the user was created without the writer's rows: %v", err)
	}
	if err := m.AppendAudit(ctx, m.Store(), usermgmt.AuditEntry{Action: "outside-failed"}); !errors.Is(err, boom) {
		t.Fatalf("AppendAudit with a failing writer: %v", err)
	}
	if es, _ := m.Audit(ctx, usermgmt.AuditQuery{Actions: []string{"outside-failed"}}); len(es) != 0 {
		t.Fatalf("the entry was stored without the writer's rows: %+v", es)
	}
}
