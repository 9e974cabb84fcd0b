// Passkey ceremonies of the sign-in, second-factor and account pages (WebAuthn through
// the vendored SimpleWebAuthnBrowser bundle, served from our own origin). The passkey
// controls stay hidden when the browser cannot run them; every other form works without this file.
(function () {
  "use strict";
  var lib = window.SimpleWebAuthnBrowser;
  if (!lib || !window.PublicKeyCredential) return;

  var status = document.querySelector("[data-passkey-status]");
  function say(message) {
    if (!status) return;
    status.textContent = message;
    status.hidden = message === "";
  }

  function post(url, method, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (res) {
      if (res.status === 204) return {};
      return res.json().then(function (json) {
        if (!res.ok) {
          var err = new Error(json.error || "The request failed");
          err.code = json.code;
          throw err;
        }
        return json;
      });
    });
  }

  function failed(err) {
    // The user closed the browser's dialog: nothing to report.
    if (err && err.name === "NotAllowedError") return say("The passkey request was cancelled.");
    say((err && err.message ? err.message : "Something went wrong") + ".");
  }

  function busy(el, on) {
    el.disabled = on;
    el.setAttribute("aria-busy", on ? "true" : "false");
  }

  // Sign in with a passkey (passwordless) and use a passkey as the second factor.
  document.querySelectorAll("[data-passkey-sign-in]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var mode = button.getAttribute("data-passkey-sign-in");
      busy(button, true);
      say("");
      post(button.getAttribute("data-options-url"), "POST", { mode: mode })
        .then(function (answer) { return lib.startAuthentication({ optionsJSON: answer.options }); })
        .then(function (response) {
          var body = mode === "second_factor" ? { method: "webauthn", response: response } : { response: response };
          return post(button.getAttribute("data-verify-url"), "POST", body);
        })
        .then(function () { window.location.assign(button.getAttribute("data-done-url")); })
        .catch(failed)
        .then(function () { busy(button, false); });
    });
  });

  // Add a passkey (account page).
  document.querySelectorAll("form[data-passkey-add]").forEach(function (form) {
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      var name = form.querySelector("input[name=name]").value;
      busy(button, true);
      say("");
      post(form.getAttribute("data-options-url"), "POST", {})
        .then(function (answer) { return lib.startRegistration({ optionsJSON: answer.options }); })
        .then(function (response) { return post(form.getAttribute("data-register-url"), "POST", { response: response, name: name }); })
        .then(function () { window.location.reload(); })
        .catch(failed)
        .then(function () { busy(button, false); });
    });
  });

  // Rename a passkey.
  document.querySelectorAll("form[data-passkey-rename]").forEach(function (form) {
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var name = form.querySelector("input[name=name]").value;
      post(form.getAttribute("data-passkey-rename"), "PATCH", { name: name })
        .then(function () { window.location.reload(); })
        .catch(failed);
    });
  });

  // Remove a passkey: a form with the password when the sign-in is older than the sudo window.
  document.querySelectorAll("form[data-passkey-remove]").forEach(function (form) {
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!window.confirm("Remove this passkey? You will no longer be able to sign in with it.")) return;
      var password = form.querySelector("input[name=password]");
      var first = password && password.value !== "" ? post(form.getAttribute("data-reauth-url"), "POST", { password: password.value }) : Promise.resolve();
      first
        .then(function () { return post(form.getAttribute("data-passkey-remove"), "DELETE"); })
        .then(function () { window.location.reload(); })
        .catch(function (err) {
          if (err.code === "reauth_required") return say("Enter your password to remove a passkey.");
          failed(err);
        });
    });
  });
})();
