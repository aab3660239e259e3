// usermgmt hosted pages: small progressive enhancements. Every form works
// without this script; the server checks everything again.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
	// A field with data-match="<id>" must equal that field.
	document.querySelectorAll("input[data-match]").forEach(function (input) {
		var other = document.getElementById(input.getAttribute("data-match"));
		if (!other) {
			return;
		}
		var check = function () {
			input.setCustomValidity(input.value === other.value ? "" : "Passwords do not match");
		};
		input.addEventListener("input", check);
		other.addEventListener("input", check);
	});
	// A score-based CAPTCHA (reCAPTCHA v3, widget.html): the token for the
	// form's action is asked for as the form is sent.
	document.querySelectorAll("[data-captcha-invisible]").forEach(function (el) {
		var form = el.closest("form");
		var field = el.querySelector("input[name=captcha_token]");
		if (!form || !field) {
			return;
		}
		form.addEventListener("submit", function (event) {
			if (field.value || typeof grecaptcha === "undefined") {
				return;
			}
			event.preventDefault();
			grecaptcha.ready(function () {
				grecaptcha.execute(el.getAttribute("data-sitekey"), {action: el.getAttribute("data-action")}).then(function (token) {
					field.value = token;
					form.submit();
				});
			});
		});
	});
	// A show-password toggle beside every password field (a button, so
	// that keyboards and screen readers reach it; aria-pressed says its
	// state).
	document.querySelectorAll("input[type=password]").forEach(function (input) {
		if (!input.id || input.hidden) {
			return;
		}
		var toggle = document.createElement("button");
		toggle.type = "button";
		toggle.className = "reveal secondary";
		toggle.textContent = "Show password";
		toggle.setAttribute("aria-controls", input.id);
		toggle.setAttribute("aria-pressed", "false");
		toggle.addEventListener("click", function () {
			var shown = input.type === "password";
			input.type = shown ? "text" : "password";
			toggle.setAttribute("aria-pressed", shown ? "true" : "false");
			toggle.textContent = shown ? "Hide password" : "Show password";
		});
		input.insertAdjacentElement("afterend", toggle);
		// Never submit a shown password as text to a password manager's
		// surprise: hide it again when the form goes.
		if (input.form) {
			input.form.addEventListener("submit", function () {
				input.type = "password";
			});
		}
	});
	// One submission per click: disable the button while the page loads.
	document.querySelectorAll("form").forEach(function (form) {
		form.addEventListener("submit", function () {
			form.querySelectorAll("button[type=submit]").forEach(function (b) {
				b.disabled = true;
				b.setAttribute("aria-busy", "true");
			});
		});
	});
	// A page restored from the back-forward cache gets its buttons back.
	window.addEventListener("pageshow", function () {
		document.querySelectorAll("button[aria-busy]").forEach(function (b) {
			b.disabled = false;
			b.removeAttribute("aria-busy");
		});
	});
	// Send keyboard and screen-reader users to the error of a failed form.
	var error = document.getElementById("form-error");
	if (error) {
		var field = document.querySelector("[aria-invalid=true]");
		(field || document.getElementById("main")).focus();
	}
});
