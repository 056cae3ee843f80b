// The password fields' helpers (progressive enhancement: every form works without them).
// 「パスワードを表示する」: a checkbox beside every password and one-time-password field that
// shows what was typed (Gungin, Hokuyo; one-time passwords are masked as there). The software
// keyboard (ソフトウェアキーボード, Shoko Chukin FX §2.7): beside every password field when the
// firm offers it (the layout then holds the #kb dialog and names its symbols, taken from the
// password policy the server enforces); its keys are in a new random order at every opening.
(function () {
  "use strict";
  var tools = document.getElementById("pw-tools");
  if (!tools) return;
  var showText = tools.getAttribute("data-show");
  var openText = tools.getAttribute("data-keyboard");
  var dialog = document.getElementById("kb");
  var keyboard = openText && dialog && dialog.showModal && window.crypto && crypto.getRandomValues ? makeKeyboard(dialog) : null;
  var serial = 0;

  function labelOf(input) {
    var l = input.id ? document.querySelector('label[for="' + input.id + '"]') : null;
    return l ? l.textContent.trim() : "";
  }

  // A name that says which field a helper belongs to when a page has several.
  function named(text, input) {
    var l = labelOf(input);
    if (!l) return text;
    return document.documentElement.lang === "ja" ? text + "(" + l + ")" : text + " (" + l + ")";
  }

  function enhance(input) {
    if (!input.id) input.id = "pw-field-" + ++serial;
    var wasPassword = input.type === "password";
    var row = document.createElement("div");
    row.className = "pw-row";
    var box = document.createElement("div");
    box.className = "check";
    var cb = document.createElement("input");
    cb.type = "checkbox";
    cb.id = "show-" + input.id;
    cb.setAttribute("aria-controls", input.id);
    cb.setAttribute("aria-label", named(showText, input));
    var label = document.createElement("label");
    label.htmlFor = cb.id;
    label.textContent = showText;
    box.appendChild(cb);
    box.appendChild(label);
    row.appendChild(box);
    input.type = "password";
    cb.addEventListener("change", function () {
      input.type = cb.checked ? "text" : "password";
    });
    // What goes to the server never stays shown on the page left behind.
    if (input.form) {
      input.form.addEventListener("submit", function () {
        input.type = "password";
        cb.checked = false;
      });
    }
    if (keyboard && wasPassword && !input.closest("dialog")) {
      // An input button, not a <button>: the forms' own buttons stay the only ones they hold.
      var b = document.createElement("input");
      b.type = "button";
      b.className = "kb-open";
      b.value = openText;
      b.setAttribute("aria-label", named(openText, input));
      b.setAttribute("aria-haspopup", "dialog");
      b.setAttribute("aria-controls", "kb");
      b.addEventListener("click", function () {
        keyboard.open(input, b);
      });
      row.appendChild(b);
    }
    input.insertAdjacentElement("afterend", row);
  }

  document.querySelectorAll("input[type=password], input[inputmode=numeric]").forEach(enhance);

  // A uniform random integer below n from the browser's cryptographic generator.
  function below(n) {
    var buf = new Uint32Array(1);
    var limit = Math.floor(0x100000000 / n) * n;
    do crypto.getRandomValues(buf); while (buf[0] >= limit);
    return buf[0] % n;
  }

  function shuffle(a) {
    for (var i = a.length - 1; i > 0; i--) {
      var j = below(i + 1), t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  function makeKeyboard(dlg) {
    var typed = [], target = null, opener = null, shift = false;
    var field = dlg.querySelector("#kb-typed");
    var count = dlg.querySelector("#kb-count");
    var title = dlg.querySelector(".kb-field");
    var shiftButton = dlg.querySelector(".kb-shift");
    var groups = {};
    dlg.querySelectorAll(".kb-keys").forEach(function (g) {
      groups[g.getAttribute("data-group")] = g;
    });
    var chars = {
      digits: "0123456789".split(""),
      letters: "abcdefghijklmnopqrstuvwxyz".split(""),
      symbols: Array.from(dlg.getAttribute("data-symbols") || ""),
    };
    var upper = dlg.getAttribute("data-upper"), lower = dlg.getAttribute("data-lower");

    function paint(b) {
      var letter = b.getAttribute("data-letter");
      if (!letter) return;
      var c = shift ? letter.toUpperCase() : letter;
      b.setAttribute("data-key", c);
      b.textContent = c;
      b.setAttribute("aria-label", (shift ? upper : lower) + " " + c);
    }

    function key(c, group) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "kb-key";
      b.setAttribute("data-key", c);
      if (group === "letters") {
        b.setAttribute("data-letter", c);
        paint(b);
      } else if (c === " ") {
        b.textContent = dlg.getAttribute("data-space");
        b.classList.add("kb-space");
      } else {
        b.textContent = c;
      }
      return b;
    }

    // Each opening lays every group out in a new order.
    function layout() {
      Object.keys(chars).forEach(function (group) {
        var g = groups[group];
        if (!g) return;
        g.textContent = "";
        shuffle(chars[group].slice()).forEach(function (c) {
          g.appendChild(key(c, group));
        });
        g.hidden = chars[group].length === 0;
      });
    }

    function update() {
      field.value = typed.join("");
      count.textContent = dlg.getAttribute("data-count").replace("{n}", String(typed.length));
    }

    function setShift(on) {
      shift = on;
      shiftButton.setAttribute("aria-pressed", String(on));
      dlg.querySelectorAll("[data-letter]").forEach(paint);
    }

    // Closing forgets what was typed; 確定 has put it into the field before.
    function close(focus) {
      typed = [];
      update();
      if (dlg.open) dlg.close();
      if (focus) focus.focus();
    }

    dlg.addEventListener("click", function (e) {
      var b = e.target.closest ? e.target.closest("button") : null;
      if (!b || !dlg.contains(b)) return;
      if (b.classList.contains("kb-key")) {
        typed.push(b.getAttribute("data-key"));
        update();
      } else if (b === shiftButton) {
        setShift(!shift);
      } else if (b.classList.contains("kb-back")) {
        typed.pop();
        update();
      } else if (b.classList.contains("kb-clear")) {
        typed = [];
        update();
      } else if (b.classList.contains("kb-ok")) {
        target.value = typed.join("");
        target.dispatchEvent(new Event("input", { bubbles: true }));
        close(target);
      } else if (b.classList.contains("kb-cancel")) {
        close(opener);
      }
    });
    // Escape is キャンセル.
    dlg.addEventListener("cancel", function (e) {
      e.preventDefault();
      close(opener);
    });
    // Arrow keys move between the keys (Tab and Shift+Tab work too).
    dlg.addEventListener("keydown", function (e) {
      if (!e.target.classList || !e.target.classList.contains("kb-key")) return;
      var step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
      if (!step) return;
      var keys = Array.from(dlg.querySelectorAll(".kb-key"));
      var next = keys[keys.indexOf(e.target) + step];
      if (next) {
        next.focus();
        e.preventDefault();
      }
    });

    return {
      open: function (input, button) {
        target = input;
        opener = button;
        typed = [];
        setShift(false);
        layout();
        update();
        var l = labelOf(input);
        title.textContent = l ? " — " + l : "";
        dlg.showModal();
        var first = dlg.querySelector(".kb-key");
        if (first) first.focus();
      },
    };
  }
})();
