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
