// Package files holds what usermgmt needs to keep users' files: a Storage
// interface with a local-disk implementation that writes atomically, the
// reduction of a client's file name to a safe base name, content sniffing,
// image header inspection that reads dimensions without decoding pixels,
// and the generated initials avatar.
//
// It imports nothing of the usermgmt module and can be used on its own.
package files
