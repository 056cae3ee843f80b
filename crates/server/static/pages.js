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
  // The password rules, checked as the customer types (the server checks them again).
  var list = document.getElementById("policy");
  var input = document.querySelector("input[data-policy-input]");
  if (!list || !input) return;
  var min = +list.getAttribute("data-min"), max = +list.getAttribute("data-max");
  var mixed = list.getAttribute("data-mixed") === "true";
  var ascii = list.getAttribute("data-ascii") === "true";
  var login = (list.getAttribute("data-login") || "").toLowerCase();
  function mark(rule, ok) {
    var li = list.querySelector('[data-rule="' + rule + '"]');
    if (!li) return;
    li.classList.toggle("met", ok);
    li.classList.toggle("unmet", !ok);
  }
  input.addEventListener("input", function () {
    var v = input.value.normalize ? input.value.normalize("NFKC") : input.value;
    var n = Array.from(v).length;
    mark("length", n >= min && n <= max);
    mark("mixed", !mixed || (/[A-Za-z]/.test(v) && /[0-9]/.test(v)));
    mark("ascii", !ascii || /^[\x21-\x7e]*$/.test(v));
    mark("not_id", v.length > 0 && v.toLowerCase() !== login);
  });
})();
