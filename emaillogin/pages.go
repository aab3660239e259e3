package emaillogin

import (
	"context"
	"errors"
	"strings"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// The hosted pages (httpadapter.Options.Pages) find the feature through
// httpadapter.PageEmailLogin: the login page then offers "Email me a
// link" and "Email me a code", and a mailed link lands on the pages'
// click-to-confirm page, which signs the browser in.

var _ httpadapter.PageEmailLogin = (*EmailLogin)(nil)

// PageLinks implements httpadapter.PageEmailLogin: whether links are on.
func (f *EmailLogin) PageLinks() bool { return f.LinksEnabled() }

// PageCodes implements httpadapter.PageEmailLogin: whether codes are on.
func (f *EmailLogin) PageCodes() bool { return f.CodesEnabled() }

// PageRequestLink implements httpadapter.PageEmailLogin: RequestLink,
// except that the mailed link is landing (an absolute URL with
// "{token}", the pages' confirm page) and redirectURI, which the pages
// have checked against their own redirect policy, is only kept with the
// link for the page to go to once it is spent.
func (f *EmailLogin) PageRequestLink(ctx context.Context, email, landing, redirectURI string) error {
	if f.cfg.DisableLinks {
		return ErrLinksDisabled
	}
	if !strings.Contains(landing, "{token}") {
		return usermgmt.ErrInternal.Wrap(errors.New("emaillogin: a page's landing URL has no {token}"))
	}
	addr, err := usermgmt.NormalizeEmail(email)
	if err != nil {
		return err
	}
	f.enqueue(ctx, MailMagicLink, func(ctx context.Context) error { return f.sendLink(ctx, addr, landing, redirectURI) })
	return nil
}

// PageVerifyLink implements httpadapter.PageEmailLogin: VerifyLink, with
// the link's redirect_uri returned beside the tokens, and beside the
// *usermgmt.OTPChallengeError of an account with two-factor login.
func (f *EmailLogin) PageVerifyLink(ctx context.Context, token string) (*usermgmt.Tokens, string, error) {
	res, err := f.verifyLink(ctx, token)
	if res == nil {
		return nil, "", err
	}
	return res.Tokens, res.RedirectURI, err
}

// PageRequestCode implements httpadapter.PageEmailLogin: RequestCode.
func (f *EmailLogin) PageRequestCode(ctx context.Context, email string) error {
	return f.RequestCode(ctx, email)
}

// PageVerifyCode implements httpadapter.PageEmailLogin: VerifyCode.
func (f *EmailLogin) PageVerifyCode(ctx context.Context, email, code string) (*usermgmt.Tokens, error) {
	return f.VerifyCode(ctx, email, code)
}
