package passkey

import (
	"github.com/go-webauthn/webauthn/protocol"
)

// ParseCreation decodes the JSON of a registration's PublicKeyCredential
// (id, rawId, type, response{clientDataJSON, attestationObject,
// transports}, base64url). Anything malformed, or larger than
// MaxCredentialBytes, is ErrMalformed; it never panics.
func ParseCreation(data []byte) (parsed *protocol.ParsedCredentialCreationData, err error) {
	if len(data) == 0 || len(data) > MaxCredentialBytes {
		return nil, ErrMalformed
	}
	defer func() {
		if recover() != nil { // the decoder is third-party code on untrusted input
			parsed, err = nil, ErrMalformed
		}
	}()
	parsed, err = protocol.ParseCredentialCreationResponseBytes(data)
	if err != nil {
		return nil, ErrMalformed.Wrap(err)
	}
	return parsed, nil
}

// ParseAssertion decodes the JSON of a sign-in's PublicKeyCredential (id,
// rawId, type, response{clientDataJSON, authenticatorData, signature,
// userHandle}, base64url). Anything malformed is ErrMalformed.
func ParseAssertion(data []byte) (parsed *protocol.ParsedCredentialAssertionData, err error) {
	if len(data) == 0 || len(data) > MaxCredentialBytes {
		return nil, ErrMalformed
	}
	defer func() {
		if recover() != nil {
			parsed, err = nil, ErrMalformed
		}
	}()
	parsed, err = protocol.ParseCredentialRequestResponseBytes(data)
	if err != nil {
		return nil, ErrMalformed.Wrap(err)
	}
	return parsed, nil
}
