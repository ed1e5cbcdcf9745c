# tests/lib/tls.sh: "the server refused this TLS version", said only when
# the server said it.
#
#   tls_refused HOST:PORT VERSION [S_CLIENT-ARGS...]
#       0 when a handshake offering only VERSION (an s_client flag: -tls1,
#       -tls1_1, ...) failed with an alert FROM THE SERVER: protocol_version
#       (70) or handshake_failure (40).  Anything else returns 1 and prints
#       one line saying what happened instead: the handshake succeeded, the
#       connection was refused, the peer does not speak TLS ("wrong version
#       number"), the client did not offer the version ("no protocols
#       available"), ...
#   tls_accepted HOST:PORT VERSION PROTOCOL [S_CLIENT-ARGS...]
#       0 when a handshake offering only VERSION completes with PROTOCOL
#       (TLSv1.2, TLSv1.3, as s_client names it); else 1 and one line.
#
# S_CLIENT-ARGS go to openssl s_client as they are, e.g. -servername NAME
# or -starttls ftp.  The client offers every cipher (SECLEVEL 0), so a
# refusal is the server's, never the client's own policy.  The address is
# the caller's: the tiers use only 127.0.0.1.
#
# Why not "s_client failed": a closed port, a plain-HTTP listener or a
# client that never sent the version fail too, and would read as a server
# that refuses TLS 1.1.  openssl prints "SSL alert number N" only for an
# alert it received from the peer.
# shellcheck shell=sh

_tls_s_client() { # HOST:PORT VERSION [ARGS...]: s_client's output, its exit status
	_a=$1 _v=$2
	shift 2
	openssl s_client -connect "$_a" "$_v" -cipher 'ALL:@SECLEVEL=0' "$@" </dev/null 2>&1
}

tls_refused() {
	_out=$(_tls_s_client "$@") && {
		echo "$1 accepted a $2 handshake: $(printf '%s\n' "$_out" | grep -m1 'Protocol *:')"
		return 1
	}
	if printf '%s\n' "$_out" | grep -Eq 'alert (protocol version|handshake failure).*SSL alert number (70|40)$'; then
		return 0
	fi
	echo "$1: the $2 handshake failed without a protocol_version or handshake_failure alert from the server: $(printf '%s\n' "$_out" | grep -m1 -Ei 'error|errno|refused' || printf '%s\n' "$_out" | head -n 1)"
	return 1
}

tls_accepted() {
	_a=$1 _v=$2 _p=$3
	shift 3
	_out=$(_tls_s_client "$_a" "$_v" "$@") || {
		echo "$_a: the $_v handshake failed: $(printf '%s\n' "$_out" | grep -m1 -Ei 'error|errno|refused' || printf '%s\n' "$_out" | head -n 1)"
		return 1
	}
	printf '%s\n' "$_out" | grep -Eq "^ *Protocol *: *$_p\$|^New, $_p," && return 0
	echo "$_a: the $_v handshake negotiated $(printf '%s\n' "$_out" | grep -m1 -E 'Protocol *:|^New, '), not $_p"
	return 1
}
