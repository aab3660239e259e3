package emaillogin_test

import (
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/usermgmt/usermgmt/emaillogin"
	"github.com/usermgmt/usermgmt/internal/testpg"
)

// TestUsedOnceInParallel: a link opened, and a right code sent, by several
// clients at once signs in exactly once, on SQLite and PostgreSQL.
func TestUsedOnceInParallel(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"SQLite":     func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "test.db") },
		"PostgreSQL": func(t *testing.T) string { return testpg.DSN(t) },
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnvOn(t, dsn(t), emaillogin.Config{}, nil)
			e.user("jane_doe")
			e.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": "jane_doe@example.com"})
			_, token := tokenOf(t, e.nextMail())
			code := e.requestCode("jane_doe@example.com")
			const n = 6
			ok := func(call func() answer) int {
				var (
					wg   sync.WaitGroup
					mu   sync.Mutex
					wins int
				)
				for range n {
					wg.Go(func() {
						a := call()
						mu.Lock()
						defer mu.Unlock()
						switch a.status {
						case http.StatusOK:
							wins++
						case http.StatusUnauthorized:
						default:
							t.Errorf("%d %s", a.status, a.body)
						}
					})
				}
				wg.Wait()
				return wins
			}
			if wins := ok(func() answer { return e.do(http.MethodGet, "/api/auth/magic-link/verify?token="+token, nil) }); wins != 1 {
				t.Errorf("%d of %d parallel opens of one link signed in, want 1", wins, n)
			}
			if wins := ok(func() answer { return e.verifyCode("jane_doe@example.com", code) }); wins != 1 {
				t.Errorf("%d of %d parallel right codes signed in, want 1", wins, n)
			}
		})
	}
}
