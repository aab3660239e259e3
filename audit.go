package usermgmt

import "time"

// AuditEntry is one row of the append-only audit log: who (ActorUUID, empty
// for an anonymous caller) did what (Action) to whom (SubjectUUID), from where.
type AuditEntry struct {
	ID          int64     `json:"id"`
	Time        time.Time `json:"time"`
	ActorUUID   string    `json:"actor_uuid"`
	SubjectUUID string    `json:"subject_uuid"`
	Action      string    `json:"action"`
	Detail      string    `json:"detail"`
	IP          string    `json:"ip"`
	// ImpersonatorUUID is the admin who acted as ActorUUID (see
	// Impersonator), "" for an entry of a user acting for themself.
	// Manager.AppendAudit fills it from the context when it is empty.
	ImpersonatorUUID string `json:"impersonator_uuid"`
}

// Audit actions written by the Manager.
const (
	AuditRegister       = "register"
	AuditUserCreated    = "user-created"
	AuditUserUpdated    = "user-updated"
	AuditUserDeleted    = "user-deleted"
	AuditLogin          = "login"
	AuditLoginFailed    = "login-failed"
	AuditLogout         = "logout"
	AuditSessionRevoked = "session-revoked"
	AuditRefreshReuse   = "refresh-token-reuse"
	AuditPasswordChange = "password-changed"
	AuditBan            = "ban"
	AuditUnban          = "unban"
	AuditOAuthRegister  = "oauth-register"
	AuditOAuthLogin     = "oauth-login"
	AuditOAuthLinked    = "oauth-linked"
	AuditOAuthUnlinked  = "oauth-unlinked"
	AuditFlagsChanged   = "feature-flags-changed"
	AuditAccountLocked  = "account-locked"
	AuditAccountUnlock  = "account-unlocked"
	// AuditPasswordRehash: a login replaced a hash of another scheme or of
	// weaker parameters by one of the configured hasher.
	AuditPasswordRehash = "password-rehashed"
)
