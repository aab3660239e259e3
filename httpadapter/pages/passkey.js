// usermgmt hosted pages: passkeys. The login page's "Sign in with a
// passkey" (and the username field's autofill, where the browser offers
// conditional mediation) and the account page's "Add a passkey". The
// ceremony begins through the JSON API; the browser's credential then
// goes in an ordinary form post, which the server finishes: a sign-in
// ends with the session cookies, and every answer is a page.
"use strict";
(function () {
	if (!window.PublicKeyCredential || !navigator.credentials) {
		return; // no WebAuthn: the forms stay hidden or unused
	}
	function fromB64u(s) {
		s = s.replace(/-/g, "+").replace(/_/g, "/");
		while (s.length % 4) {
			s += "=";
		}
		var bin = atob(s), out = new Uint8Array(bin.length);
		for (var i = 0; i < bin.length; i++) {
			out[i] = bin.charCodeAt(i);
		}
		return out.buffer;
	}
	function toB64u(buf) {
		var bytes = new Uint8Array(buf), bin = "";
		for (var i = 0; i < bytes.length; i++) {
			bin += String.fromCharCode(bytes[i]);
		}
		return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
	}
	function ids(list) {
		return (list || []).map(function (c) {
			var d = Object.assign({}, c);
			d.id = fromB64u(c.id);
			return d;
		});
	}
	function requestOptions(o) {
		var d = Object.assign({}, o);
		d.challenge = fromB64u(o.challenge);
		d.allowCredentials = ids(o.allowCredentials);
		return d;
	}
	function creationOptions(o) {
		var d = Object.assign({}, o);
		d.challenge = fromB64u(o.challenge);
		d.user = Object.assign({}, o.user, {id: fromB64u(o.user.id)});
		d.excludeCredentials = ids(o.excludeCredentials);
		return d;
	}
	function credentialJSON(c) {
		var r = c.response, resp = {clientDataJSON: toB64u(r.clientDataJSON)};
		if (r.attestationObject) {
			resp.attestationObject = toB64u(r.attestationObject);
			resp.transports = r.getTransports ? r.getTransports() : [];
		} else {
			resp.authenticatorData = toB64u(r.authenticatorData);
			resp.signature = toB64u(r.signature);
			if (r.userHandle) {
				resp.userHandle = toB64u(r.userHandle);
			}
		}
		return JSON.stringify({id: c.id, rawId: toB64u(c.rawId), type: c.type, response: resp,
			clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
			authenticatorAttachment: c.authenticatorAttachment || undefined});
	}
	function cookie(name) {
		var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
		return m ? decodeURIComponent(m[1]) : "";
	}
	function begin(form) {
		var headers = {"Accept": "application/json"}, csrf = cookie("usermgmt_csrf");
		if (csrf) {
			headers["X-CSRF-Token"] = csrf;
		}
		return fetch(form.getAttribute("data-begin"), {method: "POST", credentials: "same-origin", headers: headers})
			.then(function (res) {
				if (!res.ok) {
					throw new Error("begin " + res.status);
				}
				return res.json();
			});
	}
	function showError(form, text) {
		var p = form.querySelector(".error");
		if (p) {
			p.textContent = text;
			p.hidden = false;
		}
		form.querySelectorAll("button[aria-busy]").forEach(function (b) {
			b.disabled = false;
			b.removeAttribute("aria-busy");
		});
	}
	function finish(form, ceremony, credential) {
		form.elements.ceremony.value = ceremony;
		form.elements.credential.value = credentialJSON(credential);
		form.submit();
	}
	document.addEventListener("DOMContentLoaded", function () {
		var signin = document.getElementById("passkey-signin");
		if (signin) {
			signin.hidden = false;
			var pending = null;
			var run = function (conditional) {
				if (pending) {
					pending.abort();
				}
				var ctl = new AbortController();
				pending = ctl;
				return begin(signin).then(function (b) {
					var req = {publicKey: requestOptions(b.publicKey), signal: ctl.signal};
					if (conditional) {
						req.mediation = "conditional";
					}
					return navigator.credentials.get(req).then(function (c) {
						if (c) {
							finish(signin, b.ceremony, c);
						}
					});
				}).catch(function (err) {
					if (conditional) {
						return;
					}
					if (err.name !== "AbortError") {
						showError(signin, "The passkey sign-in did not complete. Try again, or log in with your password.");
					}
				});
			};
			signin.addEventListener("submit", function (ev) {
				ev.preventDefault();
				run(false);
			});
			if (PublicKeyCredential.isConditionalMediationAvailable) {
				PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
					if (ok) {
						run(true);
					}
				});
			}
		}
		var add = document.getElementById("passkey-add");
		if (add) {
			add.addEventListener("submit", function (ev) {
				if (add.elements.credential.value) {
					return; // the finished ceremony is being sent
				}
				ev.preventDefault();
				begin(add).then(function (b) {
					return navigator.credentials.create({publicKey: creationOptions(b.publicKey)}).then(function (c) {
						finish(add, b.ceremony, c);
					});
				}).catch(function () {
					showError(add, "The passkey was not added. Try again.");
				});
			});
		}
	});
})();
