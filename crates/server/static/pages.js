// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";
  // "Copy" next to the secret key.
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    if (!navigator.clipboard) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (!el) return;
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        var label = b.textContent;
        b.textContent = b.getAttribute("data-copied");
        setTimeout(function () { b.textContent = label; }, 2000);
      });
    });
  });
  // "Print" on the recovery codes page.
  document.querySelectorAll("button[data-print]").forEach(function (b) {
    if (!window.print) return;
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
  // The password rules, checked as the customer types exactly as the server checks them
  // (sekisho_core::password: PasswordPolicy::check after normalize): full-width characters are
  // read half-width (NFKC), lengths count characters, the login ID may not appear in any case,
  // and the common-password list is the server's own. Only the history waits for the server.
  var common = null, loading = null;
  function loadCommon(then) {
    if (!loading) {
      loading = fetch("/assets/common-passwords.txt", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (text) {
          common = new Set(text.split("\n").filter(function (l) { return l && l.charAt(0) !== "#"; }));
        });
    }
    loading.then(then, function () {});
  }
  document.querySelectorAll("input[data-policy-input]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("data-policy-input") || "policy");
    if (!list) return;
    var min = +list.getAttribute("data-min"), max = +list.getAttribute("data-max");
    var mixed = list.getAttribute("data-mixed") === "true";
    var ascii = list.getAttribute("data-ascii") === "true";
    var login = (list.getAttribute("data-login") || "").toLowerCase();
    function mark(rule, ok) {
      var li = list.querySelector('[data-rule="' + rule + '"]');
      if (!li) return;
      li.classList.toggle("met", ok === true);
      li.classList.toggle("unmet", ok === false);
    }
    function check() {
      var typed = input.value;
      if (!typed) {
        ["length", "mixed", "ascii", "login_id", "common"].forEach(function (r) { mark(r, null); });
        return;
      }
      var v = typed.normalize ? typed.normalize("NFKC") : typed;
      var n = Array.from(v).length;
      var lower = v.toLowerCase();
      mark("length", n >= min && n <= max);
      mark("mixed", !mixed || (/[A-Za-z]/.test(v) && /[0-9]/.test(v)));
      mark("ascii", ascii ? /^[\x21-\x7e]*$/.test(v) : !/[\x00-\x1f\x7f-\x9f]/.test(v));
      mark("login_id", login === "" || lower.indexOf(login) < 0);
      if (list.getAttribute("data-common") === "true") {
        if (common) mark("common", !common.has(lower));
        else loadCommon(check);
      }
    }
    input.addEventListener("input", check);
    if (input.value) check();
  });
})();

// Passkeys (WebAuthn): a section with data-passkey-start begins a ceremony (fetch, the form
// token in the body), lets the browser's authenticator answer, and posts the answer with the
// section's form. On the login page a conditional request lets the browser offer passkeys in
// the login ID's autofill.
(function () {
  "use strict";
  var sections = document.querySelectorAll("[data-begin]");
  if (!sections.length) return;
  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = b64urlToBuf(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: b64urlToBuf(pk.user.id) });
    pk.excludeCredentials = (pk.excludeCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: b64urlToBuf(c.id) });
    });
    return pk;
  }
  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = b64urlToBuf(pk.challenge);
    pk.allowCredentials = (pk.allowCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: b64urlToBuf(c.id) });
    });
    return pk;
  }
  function credentialJSON(c) {
    var r = c.response, out = { id: c.id, rawId: bufToB64url(c.rawId), type: c.type, extensions: {}, response: {
      clientDataJSON: bufToB64url(r.clientDataJSON) } };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = bufToB64url(r.authenticatorData);
      out.response.signature = bufToB64url(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64url(r.userHandle);
    }
    return out;
  }
  sections.forEach(function (section) {
    var form = section.querySelector("form.passkey-finish");
    var start = section.querySelector("[data-passkey-start]");
    var errorBox = section.querySelector(".passkey-error");
    var mode = section.getAttribute("data-mode");
    if (!form || !start) return;
    function fail(message) {
      if (!errorBox) return;
      errorBox.textContent = message;
      errorBox.hidden = false;
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      if (mode === "passwordless") return; // the login page simply offers no passkey button
      start.disabled = true;
      fail(section.getAttribute("data-unsupported"));
      return;
    }
    section.hidden = false;
    var conditional = null;
    function begin() {
      return fetch(section.getAttribute("data-begin"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ csrf: form.elements.csrf.value, mode: mode }),
      }).then(function (r) {
        return r.json().then(function (v) {
          if (!r.ok) throw new Error(v.message || r.statusText);
          return v;
        });
      });
    }
    function finish(ceremony, credential) {
      form.elements.ceremony.value = ceremony;
      form.elements.credential.value = JSON.stringify(credentialJSON(credential));
      form.submit();
    }
    function run(mediation) {
      return begin().then(function (v) {
        if (mode === "register") {
          return navigator.credentials.create({ publicKey: creationOptions(v.options) }).then(function (c) {
            finish(v.ceremony, c);
          });
        }
        var opts = { publicKey: requestOptions(v.options) };
        if (mediation) {
          conditional = new AbortController();
          opts.mediation = "conditional";
          opts.signal = conditional.signal;
        }
        return navigator.credentials.get(opts).then(function (c) {
          if (c) finish(v.ceremony, c);
        });
      });
    }
    start.addEventListener("click", function () {
      if (mode === "register" && !form.elements.name.reportValidity()) return;
      if (conditional) conditional.abort();
      conditional = null;
      start.disabled = true;
      run(false).catch(function (e) {
        start.disabled = false;
        fail(e && e.name === "NotAllowedError" ? section.getAttribute("data-cancelled") : (e && e.message) || String(e));
      });
    });
    // Autofill: the browser lists passkeys under the login ID field.
    if (mode === "passwordless" && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (ok) run(true).catch(function () {});
      });
    }
  });
})();
