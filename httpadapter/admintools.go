package httpadapter

import (
	"context"
	"net/http"
	"time"

	"github.com/usermgmt/usermgmt"
)

// The admin tools: the audit log, and the database's export, import and
// recovery (dbtools.go).

func adminToolRoutes() []route {
	return []route{
		{Route{Method: get, Path: "/admin/audit", Name: "read_audit", Flag: "READ_AUDIT", Tag: "admin", Auth: true,
			Summary: "The audit log, newest first, filtered by actor, subject, action and time; paged by cursor.",
			Request: "AuditQuery", Status: ok, Response: "AuditPage"},
			op[usermgmt.AuditQuery]{decodeAuditQuery, (*handler).audit}},
		{Route{Method: get, Path: "/user/me/export", Name: "read_users_me_export", Flag: "READ_USERS_ME_EXPORT", Tag: "user", Auth: true,
			Summary: "Everything stored about the caller, as JSON.", Status: ok, Response: "UserExport"},
			op[none]{noInput, (*handler).meExport}},
	}
}

// decodeAuditQuery reads actor, subject, action (repeatable), since and
// until (RFC 3339), limit (default 50) and cursor.
func decodeAuditQuery(r *http.Request) (usermgmt.AuditQuery, error) {
	q, err := Query(r)
	if err != nil {
		return usermgmt.AuditQuery{}, err
	}
	limit, err := queryInt(q, "limit", 50)
	if err != nil {
		return usermgmt.AuditQuery{}, err
	}
	aq := usermgmt.AuditQuery{ActorUUID: q.Get("actor"), SubjectUUID: q.Get("subject"), Actions: q["action"], Limit: limit}
	for _, tp := range []struct {
		name string
		to   *time.Time
	}{{"since", &aq.Since}, {"until", &aq.Until}} {
		if s := q.Get(tp.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return usermgmt.AuditQuery{}, invalid(tp.name + ": must be an RFC 3339 time")
			}
			*tp.to = t
		}
	}
	if c := q.Get("cursor"); c != "" {
		if aq.BeforeID, err = parseAuditCursor(c); err != nil {
			return usermgmt.AuditQuery{}, err
		}
	}
	return aq, nil
}

// auditRead is one audit entry on the wire.
type auditRead struct {
	ID          int64  `json:"id"`
	Time        string `json:"time"`
	ActorUUID   string `json:"actor_uuid"`
	SubjectUUID string `json:"subject_uuid"`
	Action      string `json:"action"`
	Detail      string `json:"detail"`
	IP          string `json:"ip"`
	// ImpersonatorUUID: the admin who acted as actor_uuid, on an entry
	// written while impersonating; absent otherwise.
	ImpersonatorUUID string `json:"impersonator_uuid,omitempty"`
}

// auditPage is a page of the audit log; NextCursor is null on the last.
type auditPage struct {
	Entries    []auditRead `json:"entries"`
	NextCursor *string     `json:"next_cursor"`
}

func (h *handler) audit(ctx context.Context, p *usermgmt.Principal, q usermgmt.AuditQuery) (response, error) {
	es, err := h.m.As(p.User()).Audit(ctx, q)
	if err != nil {
		return response{}, err
	}
	page := auditPage{Entries: make([]auditRead, len(es))}
	for i, e := range es {
		page.Entries[i] = auditRead{ID: e.ID, Time: e.Time.UTC().Format(time.RFC3339Nano), ActorUUID: e.ActorUUID,
			SubjectUUID: e.SubjectUUID, Action: e.Action, Detail: e.Detail, IP: e.IP, ImpersonatorUUID: e.ImpersonatorUUID}
	}
	limit := q.Limit
	if limit == 0 {
		limit = 50
	}
	if len(es) == limit {
		c := formatAuditCursor(es[len(es)-1].ID)
		page.NextCursor = &c
	}
	return jsonOK(page), nil
}

func (h *handler) meExport(ctx context.Context, p *usermgmt.Principal, _ none) (response, error) {
	ex, err := h.m.ExportUser(ctx, p.User().UUID)
	if err != nil {
		return response{}, err
	}
	res := jsonOK(ex)
	res.header = http.Header{"Content-Disposition": {`attachment; filename="my_data.json"`}}
	return res, nil
}
