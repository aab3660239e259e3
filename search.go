package usermgmt

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Admin search: users by username or email prefix, and the audit log, both
// paged by cursor.

// maxSearchLen bounds a search prefix (the longest email address).
const maxSearchLen = 254

// checkUserSearch validates the search part of q and normalises it: the
// prefix is lower-cased (usernames and stored emails are).
func checkUserSearch(q UserQuery) (UserQuery, error) {
	if len(q.Search) > maxSearchLen || !utf8.ValidString(q.Search) || strings.ContainsFunc(q.Search, isControl) {
		return q, ErrInvalidInput.WithMessage("search must be valid text of at most 254 bytes.")
	}
	q.Search = strings.ToLower(q.Search)
	if q.After != nil {
		id, err := canonicalUUID(q.After.UUID)
		if err != nil {
			return q, ErrInvalidInput.WithMessage("Invalid cursor.")
		}
		q.After = &UserCursor{CreatedAt: q.After.CreatedAt.UTC(), UUID: id}
	}
	return q, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// NextUserCursor returns the cursor of the page after page (nil when page
// is shorter than limit, so that no further page exists).
func NextUserCursor(page []*User, limit int) *UserCursor {
	if limit <= 0 {
		limit = 100
	}
	if len(page) == 0 || len(page) < limit {
		return nil
	}
	last := page[len(page)-1]
	return &UserCursor{CreatedAt: last.CreatedAt, UUID: last.UUID}
}

// Audit returns audit entries matching q, newest first. It is the trusted
// call; see Actor.Audit for the checked one.
func (m *Manager) Audit(ctx context.Context, q AuditQuery) ([]*AuditEntry, error) {
	if q.Limit < 0 || q.Limit > 1000 || q.BeforeID < 0 {
		return nil, ErrInvalidInput.WithMessage("limit must be between 0 and 1000.")
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return nil, ErrInvalidInput.WithMessage("since must come before until.")
	}
	for _, id := range []*string{&q.ActorUUID, &q.SubjectUUID} {
		if *id == "" {
			continue
		}
		c, err := canonicalUUID(*id)
		if err != nil {
			return nil, err
		}
		*id = c
	}
	if len(q.Actions) > 50 {
		return nil, ErrInvalidInput.WithMessage("At most 50 actions.")
	}
	q.Since, q.Until = utcOrZero(q.Since), utcOrZero(q.Until)
	return m.store.Audit(ctx, q)
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// Audit returns audit entries matching q, newest first (policy admin.audit:
// admins by default).
func (a *Actor) Audit(ctx context.Context, q AuditQuery) ([]*AuditEntry, error) {
	if err := a.authorize(ctx, AccessRequest{Resource: "admin", Action: "audit"}); err != nil {
		return nil, err
	}
	return a.m.Audit(ctx, q)
}
