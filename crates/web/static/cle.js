// Passkeys (« clés d'accès »): runs the WebAuthn ceremony of every form
// marked `cle-ceremonie`, then posts the form with the authenticator's answer.
// The server asks for the challenge (`data-defi`, a CSRF-protected POST) and
// checks everything; this script only carries bytes. Shown only where the
// browser has WebAuthn; messages come from the page, in its language.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) { return; }

  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }

  function toText(buffer) {
    if (!buffer) { return ""; }
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creds(list) {
    return (list || []).map(function (c) { return { type: "public-key", id: toBytes(c.id) }; });
  }

  function set(form, name, value) {
    var field = form.querySelector("input[name='" + name + "']");
    if (field) { field.value = value; }
  }

  function say(form, text) {
    var box = form.querySelector(".cle-message");
    if (box) { box.textContent = text; box.hidden = false; }
  }

  function ask(form) {
    var body = new URLSearchParams();
    body.set("csrf", form.querySelector("input[name='csrf']").value);
    return fetch(form.dataset.defi, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    }).then(function (r) {
      if (!r.ok) { throw new Error("defi " + r.status); }
      return r.json();
    });
  }

  function create(form, o) {
    o.challenge = toBytes(o.challenge);
    o.user.id = toBytes(o.user.id);
    o.excludeCredentials = creds(o.excludeCredentials);
    return navigator.credentials.create({ publicKey: o }).then(function (cred) {
      set(form, "client_data", toText(cred.response.clientDataJSON));
      set(form, "attestation", toText(cred.response.attestationObject));
    });
  }

  function get(form, o) {
    o.challenge = toBytes(o.challenge);
    o.allowCredentials = creds(o.allowCredentials);
    return navigator.credentials.get({ publicKey: o }).then(function (cred) {
      set(form, "id", toText(cred.rawId));
      set(form, "client_data", toText(cred.response.clientDataJSON));
      set(form, "authenticator_data", toText(cred.response.authenticatorData));
      set(form, "signature", toText(cred.response.signature));
      set(form, "user_handle", toText(cred.response.userHandle));
    });
  }

  document.querySelectorAll("form.cle-ceremonie").forEach(function (form) {
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.dataset.enCours) { return; }
      form.dataset.enCours = "1";
      ask(form).then(function (options) {
        return form.dataset.ceremonie === "create" ? create(form, options) : get(form, options);
      }).then(function () {
        form.submit();
      }).catch(function () {
        delete form.dataset.enCours;
        say(form, form.dataset.erreur);
      });
    });
  });
})();
