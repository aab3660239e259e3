#!/bin/sh
# gen.sh writes vectors.tsv: password hashes made by tools independent of
# this package (Debian's argon2 CLI, htpasswd, libxcrypt through perl's
# crypt, Debian's python3 hashlib, openssl). It was run once; its output is
# committed, and the tests check that the package verifies every line.
#
# Each line: format, password, hash (tab-separated).
set -eu
P1='Tr0ub4dor&3'
P2='correct horse battery staple'
P3='pässwörd-ünïcode'

row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3"; }

for p in "$P1" "$P2" "$P3"; do
	# argon2id and argon2i, PHC strings, from the reference implementation's CLI.
	row argon2id "$p" "$(printf %s "$p" | argon2 somesaltvalue -id -t 2 -k 19456 -p 1 -e)"
	row argon2id "$p" "$(printf %s "$p" | argon2 othersalt16bytes -id -t 1 -k 8192 -p 2 -l 24 -e)"
	row argon2i "$p" "$(printf %s "$p" | argon2 somesaltvalue -i -t 3 -k 4096 -p 1 -e)"
	# bcrypt: $2y$ from Apache's htpasswd, $2a$ and $2b$ from libxcrypt.
	row bcrypt "$p" "$(htpasswd -nbB -C 5 u "$p" | cut -d: -f2)"
	row bcrypt "$p" "$(perl -e 'print crypt($ARGV[0], "\$2a\$05\$abcdefghijklmnopqrstuu")' "$p")"
	row bcrypt "$p" "$(perl -e 'print crypt($ARGV[0], "\$2b\$06\$0123456789ABCDEFGHIJKu")' "$p")"
done

/usr/bin/python3 - "$P1" "$P2" "$P3" <<'PY'
import base64, hashlib, sys
def b64(b): return base64.b64encode(b).decode().rstrip("=")
for p in sys.argv[1:]:
    pw = p.encode()
    # Django's PBKDF2PasswordHasher: pbkdf2_sha256$iterations$salt$base64(dk)
    for it, salt in ((1000000, "Jd8HkYcBT6ZnJjBL1Yq3X1"), (36000, "abcdefgh")):
        dk = hashlib.pbkdf2_hmac("sha256", pw, salt.encode(), it)
        print("pbkdf2_sha256\t%s\tpbkdf2_sha256$%d$%s$%s" % (p, it, salt, base64.b64encode(dk).decode()))
    # scrypt PHC string (passlib's layout): $scrypt$ln=..,r=..,p=..$salt$hash
    for ln, r, par, salt in ((15, 8, 1, b"sixteen byte slt"), (10, 4, 2, b"12345678")):
        dk = hashlib.scrypt(pw, salt=salt, n=1 << ln, r=r, p=par, maxmem=1 << 26, dklen=32)
        print("scrypt\t%s\t$scrypt$ln=%d,r=%d,p=%d$%s$%s" % (p, ln, r, par, b64(salt), b64(dk)))
PY

# Firebase's scrypt: key = scrypt(password, salt || separator, N=2^mem_cost,
# r=rounds, p=1, 32 bytes); hash = AES-256-CTR(key, iv=0)(signer key).
SIGNER='jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=='
SEP='Bw=='
SALT='42xEC+ixf3L2lw=='
for p in "$P1" "$P2" "$P3"; do
	key=$(/usr/bin/python3 -c '
import base64, hashlib, sys
salt = base64.b64decode(sys.argv[2]) + base64.b64decode(sys.argv[3])
print(hashlib.scrypt(sys.argv[1].encode(), salt=salt, n=1 << 14, r=8, p=1, maxmem=1 << 26, dklen=32).hex())' "$p" "$SALT" "$SEP")
	hash=$(printf %s "$SIGNER" | base64 -d | openssl enc -aes-256-ctr -K "$key" -iv 00000000000000000000000000000000 -nosalt | base64 -w0)
	row firebase-scrypt "$p" "$(printf 'signer=%s;separator=%s;rounds=8;memcost=14;salt=%s;hash=%s' "$SIGNER" "$SEP" "$SALT" "$hash")"
done
