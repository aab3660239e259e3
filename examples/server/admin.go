package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/usermgmt/usermgmt"
)

// The default admin created on first start.
const (
	adminUsername    = "admin"
	adminDisplayName = "Admin"
	adminEmail       = "admin@example.com"
)

// ensureAdmin creates the default admin when the store holds no user at
// all, with the address ADMIN_EMAIL (default admin@example.com), which is
// never refused as undeliverable: the operator vouches for it. Its password
// is ADMIN_PASSWORD as given (the password policy does not apply to an
// operator's choice) or, without one, a random password stored in
// DATA_DIR/admin_password (mode 0600) whose path, never content, is logged.
// ADMIN_EMAIL counts only then: a later change does not touch an existing
// admin. Two instances starting at once are fine: the one whose insert
// conflicts leaves the other's admin in place.
func ensureAdmin(ctx context.Context, m *usermgmt.Manager, cfg Config, log *slog.Logger) error {
	n, err := m.CountUsers(ctx)
	if err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil
	}

	password, passwordFile := cfg.AdminPassword, ""
	if password == "" {
		passwordFile = filepath.Join(cfg.DataDir, adminPasswordFile)
		if password, _, err = loadOrCreateSecretFile(passwordFile, newAdminPassword); err != nil {
			return fmt.Errorf("admin password: %w", err)
		}
	}
	hash, err := m.Hasher().Hash(ctx, password)
	if err != nil {
		return fmt.Errorf("hash the admin password: %w", err)
	}
	u, err := m.CreateUser(ctx, usermgmt.NewUser{
		Username:      adminUsername,
		DisplayName:   adminDisplayName,
		Email:         cmp.Or(cfg.AdminEmail, adminEmail),
		PasswordHash:  hash,
		Roles:         []string{usermgmt.RoleAdmin, usermgmt.RoleModerator, usermgmt.RoleUser},
		EmailVerified: true,
	})
	switch {
	case errors.Is(err, usermgmt.ErrUsernameTaken), errors.Is(err, usermgmt.ErrEmailTaken), errors.Is(err, usermgmt.ErrConflict):
		log.InfoContext(ctx, "default admin already created by another instance")
		return nil
	case err != nil:
		return fmt.Errorf("create the default admin: %w", err)
	}
	if passwordFile != "" {
		log.WarnContext(ctx, "created the default admin; its password is in the file named here: log in and change it",
			"username", u.Username, "email", u.Email, "password_file", passwordFile)
	} else {
		log.InfoContext(ctx, "created the default admin with the password from ADMIN_PASSWORD",
			"username", u.Username, "email", u.Email)
	}
	return nil
}
