package usermgmt

import (
	"errors"
	"syscall"
)

// noSpace reports whether err is the system refusing a write for lack of
// space (ENOSPC) or of quota (EDQUOT).
func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
