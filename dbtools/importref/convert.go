package importref

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools"
	"github.com/usermgmt/usermgmt/files"
)

// exportDoc is the usermgmt export document the import writes
// (store/export.go describes the format).
type exportDoc struct {
	Format  string        `json:"format"`
	Version int           `json:"version"`
	Dialect string        `json:"dialect"`
	Tables  []exportTable `json:"tables"`
}

type exportTable struct {
	Name string           `json:"name"`
	Key  []string         `json:"key"`
	Rows []map[string]any `json:"rows"`
}

// refRow names a reference row: its 1-based number and key.
type refRow struct {
	n   int
	key string
}

// converter turns the reference's rows into the export's.
type converter struct {
	m         *usermgmt.Manager
	now       time.Time
	nextAudit int64
	rep       *Report

	userRows []refRow          // the reference row of each users row written, in order
	users    map[string]bool   // the imported users' UUIDs
	created  map[string]string // each imported user's created_at
	files    []*fileRow
	emailOTP int // users whose second factor is the email method
}

// fileRow is a carried file, with what copying its content needs.
type fileRow struct {
	n         int // its row in the reference's files
	out       map[string]any
	createdBy string // the reference's uploader (its folder holds the file)
	name      string // the reference's file_name
	path      string // the reference's file_path
}

func (c *converter) convert(data *refData) (*exportDoc, error) {
	users, history, err := c.convertUsers(data.tables["users"])
	if err != nil {
		return nil, err
	}
	fileRows, err := c.convertFiles(data.tables["files"], data.tables["users_files_links"], users)
	if err != nil {
		return nil, err
	}
	idents, err := c.convertExternal(data.tables["external_accounts"])
	if err != nil {
		return nil, err
	}
	if c.emailOTP > 0 {
		c.rep.Notes = append(c.rep.Notes, fmt.Sprintf(
			"%d user(s) have the email second factor: they finish logging in with a mailed code, so the service needs a mailer.", c.emailOTP))
	}
	if n := len(data.tables["oauth_tokens"]); n > 0 {
		c.rep.Notes = append(c.rep.Notes, fmt.Sprintf(
			"oauth_tokens: %d provider token row(s) not carried; each user gets new tokens at their next provider login.", n))
	}
	c.rep.Users, c.rep.Files, c.rep.ExternalAccounts, c.rep.History = len(users), len(fileRows), len(idents), len(history)
	history = append(history, map[string]any{
		"id": c.nextAudit + int64(len(history)), "time": c.now.Format(time.RFC3339Nano), "actor_uuid": "", "subject_uuid": "",
		"action": dbtools.AuditDatabaseImport, "ip": "",
		"detail": fmt.Sprintf("reference %s: %d users, %d files, %d external accounts, %d history entries",
			c.rep.Dialect, c.rep.Users, c.rep.Files, c.rep.ExternalAccounts, c.rep.History),
	})
	return &exportDoc{Format: "usermgmt-export", Version: 1, Dialect: c.rep.Dialect, Tables: []exportTable{
		{Name: "users", Key: []string{"uuid"}, Rows: users},
		{Name: "audit_log", Key: []string{"id"}, Rows: history},
		{Name: "files", Key: []string{"id"}, Rows: fileRows},
		{Name: "external_identities", Key: []string{"provider", "subject"}, Rows: idents},
	}}, nil
}

// historyEntry is one element of the reference's users.user_history.
type historyEntry struct {
	Time        string `json:"time"`
	Action      string `json:"action"`
	Description string `json:"description"`
	By          string `json:"by"`
}

func (c *converter) convertUsers(rows []row) (users, history []map[string]any, err error) {
	c.users, c.created = map[string]bool{}, map[string]string{}
	emails, names := map[string]int{}, map[string]int{}
	for i, r := range rows {
		n := i + 1
		id, _ := text(r["uuid"])
		fail := func(format string, args ...any) error { return rowError("users", n, id, format, args...) }
		if err := usermgmt.ValidateUUID(id); err != nil {
			return nil, nil, fail("the uuid is not a UUID")
		}
		u, err := c.convertUser(r, id)
		if err != nil {
			return nil, nil, fail("%v", err)
		}
		email, username := u["email"].(string), u["username"].(string)
		if prev, ok := emails[email]; ok {
			return nil, nil, fail("the email %q is also row %d's (emails are unique here whatever their case)", email, prev)
		}
		if prev, ok := names[username]; ok {
			return nil, nil, fail("the username %q is also row %d's", username, prev)
		}
		emails[email], names[username] = n, n
		c.noteDefaultPassword(n, username, u["password_hash"].(string))
		c.users[id] = true
		c.created[id] = u["created_at"].(string)
		c.userRows = append(c.userRows, refRow{n: n, key: id})
		users = append(users, u)
	}
	// Blocked users and the history need every UUID known.
	for i, r := range rows {
		u := users[i]
		var blocked []string
		if err := jsonValue(r["blocked_uuids"], &blocked); err != nil {
			return nil, nil, rowError("users", i+1, u["uuid"], "blocked_uuids is not a JSON list of strings")
		}
		kept := []string{}
		for _, b := range blocked {
			if c.users[b] && !slices.Contains(kept, b) {
				kept = append(kept, b)
			} else if !c.users[b] {
				c.rep.Notes = append(c.rep.Notes, fmt.Sprintf("users row %d (uuid %s): blocked uuid %q names no user; dropped.", i+1, u["uuid"], clip(b, 64)))
			}
		}
		u["blocked_uuids"] = mustJSON(kept)
		entries, err := c.convertHistory(r["user_history"], i+1, u)
		if err != nil {
			return nil, nil, err
		}
		history = append(history, entries...)
	}
	return users, history, nil
}

// convertUser checks and converts one users row (without blocked_uuids).
func (c *converter) convertUser(r row, id string) (map[string]any, error) {
	username, err := text(r["username"])
	if err != nil {
		return nil, fmt.Errorf("username: %w", err)
	}
	if err := usermgmt.ValidateUsername(username); err != nil {
		return nil, fmt.Errorf("the username %q is refused here (5 to 32 of a-z, 0-9 and _)", clip(username, 64))
	}
	display, err := text(r["display_name"])
	if err != nil {
		return nil, fmt.Errorf("display_name: %w", err)
	}
	if display == "" {
		display = username
	}
	if err := usermgmt.ValidateDisplayName(display, username); err != nil {
		return nil, fmt.Errorf("the display_name %q does not spell the username %q", clip(display, 64), username)
	}
	rawEmail, err := text(r["email"])
	if err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	email, err := usermgmt.NormalizeEmail(rawEmail)
	if err != nil {
		return nil, fmt.Errorf("the email %q is not a valid address", clip(rawEmail, 254))
	}
	hash, err := text(r["hashed_password"])
	if err != nil {
		return nil, fmt.Errorf("hashed_password: %w", err)
	}
	external, err := boolean(r["is_external_only"], false)
	if err != nil {
		return nil, fmt.Errorf("is_external_only: %w", err)
	}
	if hash == PasswordMarkerExternal {
		hash, external = "", true
	} else if hash != "" {
		if err := c.checkHash(hash); err != nil {
			return nil, fmt.Errorf("the password hash is refused (%v)", err)
		}
	}
	verified, err := boolean(r["email_verified"], false)
	if err != nil {
		return nil, fmt.Errorf("email_verified: %w", err)
	}
	active, err := boolean(r["is_active"], true)
	if err != nil {
		return nil, fmt.Errorf("is_active: %w", err)
	}
	var roles []string
	if err := jsonValue(r["roles"], &roles); err != nil {
		return nil, errors.New("roles is not a JSON list of strings")
	}
	kept := []string{}
	for _, role := range roles {
		if !c.m.Policy().HasRole(role) {
			return nil, fmt.Errorf("the role %q is not one of the policy's (%s)", clip(role, 64), strings.Join(c.m.Policy().Roles(), ", "))
		}
		if !slices.Contains(kept, role) {
			kept = append(kept, role)
		}
	}
	if len(kept) == 0 {
		kept = []string{usermgmt.RoleUser}
	}
	desc, err := text(r["description"])
	if err != nil {
		return nil, fmt.Errorf("description: %w", err)
	}
	if err := usermgmt.ValidateDescription(desc); err != nil {
		return nil, errors.New("the description is longer than 256 characters or holds control characters")
	}
	method, secret, err := c.otp(r, id)
	if err != nil {
		return nil, err
	}
	created, err := unixTime(r["created_at"], c.now)
	if err != nil {
		return nil, fmt.Errorf("created_at: %w", err)
	}
	updated, err := unixTime(r["updated_at"], c.now)
	if err != nil {
		return nil, fmt.Errorf("updated_at: %w", err)
	}
	u := map[string]any{
		"uuid": id, "username": username, "display_name": display, "email": email, "email_verified": verified,
		"password_hash": hash, "otp_method": method, "otp_secret": secret, "roles": mustJSON(kept),
		"description": desc, "is_external_only": external, "is_active": active, "profile_picture_id": nil,
		"created_at": created, "updated_at": updated,
	}
	if pic, ok, err := integer(r["profile_picture_id"]); err != nil {
		return nil, fmt.Errorf("profile_picture_id: %w", err)
	} else if ok {
		u["profile_picture_id"] = pic // kept by convertFiles if the file is carried
	}
	return u, nil
}

// checkHash checks a password hash with the Manager's HashValidator, or
// as a bcrypt hash of a bounded cost (the reference's, and the default
// hasher's) when the hasher validates none.
func (c *converter) checkHash(hash string) error {
	if _, ok := c.m.Hasher().(usermgmt.HashValidator); ok {
		return c.m.ValidatePasswordHash(hash)
	}
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return fmt.Errorf("not a bcrypt hash: %w", err)
	}
	if limit := max(maxBcryptCost, c.m.Config().BcryptCost); cost > limit {
		return fmt.Errorf("bcrypt cost %d is over %d: every login would take minutes", cost, limit)
	}
	return nil
}

// maxBcryptCost bounds the cost of an imported bcrypt hash under the
// default hasher (or the configured cost, when higher), as package
// hashers' Limits do.
const maxBcryptCost = 14

// otp converts the second factor. The authenticator keeps its secret,
// sealed for the user. The email method keeps no secret (here its codes
// are random, mailed and stored hashed), and with none the secret (which
// the reference handed out in a response header) is dropped: a new one is
// made at enrolment.
func (c *converter) otp(r row, id string) (method, sealed string, err error) {
	method, err = text(r["otp_method"])
	if err != nil {
		return "", "", fmt.Errorf("otp_method: %w", err)
	}
	switch method {
	case "", usermgmt.OTPNone:
		return usermgmt.OTPNone, "", nil
	case usermgmt.OTPEmail:
		c.emailOTP++
		return method, "", nil
	case usermgmt.OTPAuthenticator:
	default:
		return "", "", fmt.Errorf("the otp_method %q is not none, authenticator or email", clip(method, 32))
	}
	secret, err := text(r["otp_secret"])
	if err != nil {
		return "", "", fmt.Errorf("otp_secret: %w", err)
	}
	sealed, err = c.m.SealOTPSecret(id, secret)
	if err != nil {
		return "", "", errors.New("otp_method is authenticator but the otp_secret is not a usable TOTP secret (base32, at least 80 bits)")
	}
	return method, sealed, nil
}

// referenceAdminPassword is the password the reference gives its default
// admin.
const referenceAdminPassword = "changeme"

// noteDefaultPassword notes an account that still has the reference's
// default admin password.
func (c *converter) noteDefaultPassword(n int, username, hash string) {
	if username != "admin" || hash == "" {
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(referenceAdminPassword)) == nil {
		c.rep.Notes = append(c.rep.Notes, fmt.Sprintf(
			"users row %d (admin): the password is still the reference's default %q; change it at once.", n, referenceAdminPassword))
	}
}

// convertHistory turns a user's history into audit rows about the user.
func (c *converter) convertHistory(v any, n int, u map[string]any) ([]map[string]any, error) {
	var entries []historyEntry
	if err := jsonValue(v, &entries); err != nil {
		return nil, rowError("users", n, u["uuid"], "user_history is not a JSON list of {time, action, description, by}")
	}
	out := make([]map[string]any, 0, len(entries))
	for _, e := range entries {
		at, err := time.ParseInLocation("2006-01-02 15:04:05", strings.TrimSuffix(strings.TrimSpace(e.Time), " UTC"), time.UTC)
		when := at.Format(time.RFC3339Nano)
		if err != nil {
			when = u["created_at"].(string)
			c.rep.Notes = append(c.rep.Notes, fmt.Sprintf("users row %d (uuid %s): history time %q unreadable; the entry takes the account's creation time.", n, u["uuid"], clip(e.Time, 40)))
		}
		actor, detail := "", clip(e.Description, 512)
		by := strings.TrimSpace(e.By)
		if usermgmt.ValidateUUID(by) == nil {
			actor = by
		} else if by != "" {
			detail = strings.TrimSpace(detail + " (by " + clip(by, 64) + ")")
		}
		action := clip(strings.TrimSpace(e.Action), 64)
		if action == "" {
			action = "entry"
		}
		out = append(out, map[string]any{
			"id": c.nextAudit, "time": when, "actor_uuid": actor, "subject_uuid": u["uuid"],
			"action": HistoryActionPrefix + action, "detail": detail, "ip": "",
		})
		c.nextAudit++
	}
	return out, nil
}

func (c *converter) convertFiles(rows, links []row, users []map[string]any) ([]map[string]any, error) {
	linked := map[int64][]string{} // file id → linked users, in order
	for _, l := range links {
		id, ok, err := integer(l["file_id"])
		uu, _ := text(l["user_uuid"])
		if err != nil || !ok || !c.users[uu] {
			continue
		}
		if !slices.Contains(linked[id], uu) {
			linked[id] = append(linked[id], uu)
		}
	}
	pictureOf := map[int64]string{}
	for _, u := range users {
		if id, ok := u["profile_picture_id"].(int64); ok {
			pictureOf[id] = u["uuid"].(string)
		}
	}
	out := []map[string]any{}
	names := map[string]int{}
	carried := map[int64]bool{}
	for i, r := range rows {
		n := i + 1
		id, ok, err := integer(r["id"])
		if err != nil || !ok {
			return nil, rowError("files", n, r["id"], "the id is not an integer")
		}
		fail := func(format string, args ...any) error { return rowError("files", n, id, format, args...) }
		refName, err := text(r["file_name"])
		if err != nil {
			return nil, fail("file_name: %v", err)
		}
		name, err := files.SafeName(refName)
		if err != nil {
			return nil, fail("the file_name %q leaves no safe name", clip(refName, 64))
		}
		refCreator, _ := text(r["created_by_uuid"])
		createdBy := refCreator
		// The owner (whose folder holds the file here): the user whose
		// picture it is, else a linked user other than the uploader (an
		// upload for someone), else the uploader, else any linked user.
		owner := pictureOf[id]
		for _, l := range linked[id] {
			if owner == "" && l != createdBy {
				owner = l
			}
		}
		if owner == "" && c.users[createdBy] {
			owner = createdBy
		}
		if owner == "" && len(linked[id]) > 0 {
			owner = linked[id][0]
		}
		if owner == "" {
			c.rep.Notes = append(c.rep.Notes, fmt.Sprintf("files row %d (id %d): neither its uploader nor a linked user exists; not carried.", n, id))
			continue
		}
		if prev, ok := names[owner+"/"+name]; ok {
			return nil, fail("its owner %s already has a file named %q (row %d)", owner, name, prev)
		}
		names[owner+"/"+name] = n
		if !c.users[createdBy] {
			createdBy = ""
		}
		desc, err := text(r["description"])
		if err != nil {
			return nil, fail("description: %v", err)
		}
		if !utf8.ValidString(desc) || utf8.RuneCountInString(desc) > usermgmt.MaxDescriptionLength {
			return nil, fail("the description is longer than 256 characters")
		}
		created, err := unixTime(r["created_at"], c.now)
		if err != nil {
			return nil, fail("created_at: %v", err)
		}
		path, _ := text(r["file_path"])
		key := "users/" + owner + "/" + name
		f := map[string]any{
			"id": id, "owner_uuid": owner, "created_by_uuid": nullable(createdBy), "file_name": name,
			"file_type": files.Ext(name), "content_type": "", "size": 0, "sha256": "", "description": desc,
			"storage_key": key, "created_at": created,
		}
		out = append(out, f)
		c.files = append(c.files, &fileRow{n: n, out: f, createdBy: refCreator, name: refName, path: path})
		c.rep.FileKeys = append(c.rep.FileKeys, FileKey{ID: id, From: path, StorageKey: key})
		carried[id] = true
	}
	for i, u := range users {
		if id, ok := u["profile_picture_id"].(int64); ok && !carried[id] {
			u["profile_picture_id"] = nil
			c.rep.Notes = append(c.rep.Notes, fmt.Sprintf("users row %d (uuid %s): profile_picture_id %d names no carried file; cleared.", c.userRows[i].n, u["uuid"], id))
		}
	}
	return out, nil
}

func (c *converter) convertExternal(rows []row) ([]map[string]any, error) {
	out := []map[string]any{}
	perUser := map[string]int{}
	for i, r := range rows {
		n := i + 1
		id, _ := text(r["external_account_id"])
		fail := func(format string, args ...any) error { return rowError("external_accounts", n, id, format, args...) }
		if id == "" {
			return nil, fail("the external_account_id is empty")
		}
		provider, _ := text(r["provider"])
		provider = strings.ToLower(strings.TrimSpace(provider))
		if provider == "" {
			return nil, fail("the provider is empty")
		}
		owner, _ := text(r["user_uuid"])
		if !c.users[owner] {
			c.rep.Notes = append(c.rep.Notes, fmt.Sprintf("external_accounts row %d (external_account_id %s): its user %q does not exist; not carried.", n, clip(id, 64), clip(owner, 64)))
			continue
		}
		if prev, ok := perUser[owner+"/"+provider]; ok {
			return nil, fail("user %s already has a %s account (row %d); a user links one account per provider here", owner, provider, prev)
		}
		perUser[owner+"/"+provider] = n
		ident := map[string]any{"provider": provider, "subject": id, "user_uuid": owner, "tokens": nil,
			"created_at": c.created[owner], "updated_at": c.now.Format(time.RFC3339Nano)}
		for _, col := range []string{"username", "display_name", "email", "picture_url"} {
			v, err := text(r[col])
			if err != nil {
				return nil, fail("%s: %v", col, err)
			}
			ident[col] = clip(v, 512)
		}
		out = append(out, ident)
	}
	return out, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// mustJSON is the JSON text of a list of strings (which always encodes).
func mustJSON(v []string) string {
	b, _ := json.Marshal(v)
	return string(b)
}
