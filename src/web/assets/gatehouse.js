// Gatehouse progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Copy buttons: <button data-copy="#id" hidden>.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      });
    });
  });
  // Show/hide password toggles: <button data-toggle-password="id" hidden>.
  document.querySelectorAll("[data-toggle-password]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-toggle-password"));
    if (!input) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.textContent = show ? "Hide" : "Show";
      button.setAttribute("aria-pressed", show ? "true" : "false");
    });
  });
  // After a refused form, put the cursor in the first field that needs attention.
  var invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();
  // Confirm dialogs: <form data-confirm="Question?">.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  // The one-time setup link carries its token in the URL fragment (never sent to a server):
  // move it into the form and drop it from the address bar and history. It is kept in this
  // tab's sessionStorage until the setup form is left, so a refused form need not be re-pasted.
  var KEY = "gatehouse-setup-token";
  var tokenInput = document.querySelector("input[data-fragment-token]");
  var store;
  try { store = window.sessionStorage; } catch { store = null; }
  if (tokenInput) {
    if (location.hash.indexOf("#token=") === 0) {
      tokenInput.value = decodeURIComponent(location.hash.slice(7));
      history.replaceState(null, "", location.pathname + location.search);
      if (store) store.setItem(KEY, tokenInput.value);
    } else if (store && store.getItem(KEY)) {
      tokenInput.value = store.getItem(KEY);
    }
    var note = document.querySelector("[data-token-note]");
    if (note && tokenInput.value) note.hidden = true;
    // An invitation page: the code field is for browsers without JavaScript; hide it once filled.
    var box = document.querySelector("[data-token-box]");
    if (box && tokenInput.value && !box.querySelector("[aria-invalid=true]")) box.hidden = true;
  } else if (store) {
    store.removeItem(KEY);
  }
})();
