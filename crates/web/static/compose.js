// Ardoise composer enhancements. The form works without this script; it adds:
// automatic draft saving (every 30 s and when leaving, if something changed),
// recipient suggestions (ARIA combobox), the optional "Mise en forme" mode, and
// swapping the signature when another identity is chosen.
(function () {
  "use strict";
  var form = document.getElementById("composer");
  if (!form) { return; }
  var t = function (k) { return form.getAttribute("data-t-" + k) || ""; };
  var status = document.getElementById("etat-brouillon");
  var body = document.getElementById("body");
  var richField = document.getElementById("riche");
  var htmlField = document.getElementById("html");
  var editor = null;
  var toolbar = null;
  var sending = false;
  var changed = false;
  var saving = false;

  // ----- rich text -----
  function richOn() { return editor !== null && !editor.hidden; }
  function sync() {
    if (richOn()) {
      richField.value = "1";
      htmlField.value = editor.innerHTML;
    } else {
      richField.value = "";
    }
  }
  function button(label, fn) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.className = "secondaire";
    b.addEventListener("click", fn);
    return b;
  }
  function command(name, value) {
    return function () {
      editor.focus();
      document.execCommand(name, false, value === undefined ? null : value);
      changed = true;
    };
  }
  function textToHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML.replace(/\n/g, "<br>");
  }
  function setupRich() {
    var label = document.getElementById("body-label");
    editor = document.createElement("div");
    editor.id = "editeur";
    editor.className = "editeur";
    editor.contentEditable = "true";
    editor.setAttribute("role", "textbox");
    editor.setAttribute("aria-multiline", "true");
    editor.setAttribute("aria-labelledby", "body-label");
    editor.hidden = true;
    editor.addEventListener("input", function () { changed = true; });
    toolbar = document.createElement("div");
    toolbar.className = "barre-outils";
    toolbar.setAttribute("role", "toolbar");
    toolbar.setAttribute("aria-label", t("rich"));
    toolbar.hidden = true;
    toolbar.appendChild(button(t("bold"), command("bold")));
    toolbar.appendChild(button(t("italic"), command("italic")));
    toolbar.appendChild(button(t("list"), command("insertUnorderedList")));
    toolbar.appendChild(button(t("link"), function () {
      var url = window.prompt(t("url"), "https://");
      if (url && /^(https?:|mailto:)/i.test(url)) { command("createLink", url)(); }
    }));
    var toggle = button(t("rich"), function () {
      if (richOn()) {
        body.value = editor.innerText;
        editor.hidden = true; toolbar.hidden = true; body.hidden = false;
        toggle.setAttribute("aria-pressed", "false");
      } else {
        editor.innerHTML = htmlField.value && form.getAttribute("data-riche") === "1" && !changed
          ? htmlField.value : textToHtml(body.value);
        editor.hidden = false; toolbar.hidden = false; body.hidden = true;
        toggle.setAttribute("aria-pressed", "true");
      }
      changed = true;
    });
    toggle.id = "mise-en-forme";
    toggle.setAttribute("aria-pressed", "false");
    label.parentNode.insertBefore(toggle, label.nextSibling);
    body.parentNode.insertBefore(toolbar, body);
    body.parentNode.insertBefore(editor, body);
    if (form.getAttribute("data-riche") === "1" && htmlField.value) {
      editor.innerHTML = htmlField.value;
      editor.hidden = false; toolbar.hidden = false; body.hidden = true;
      toggle.setAttribute("aria-pressed", "true");
    }
  }
  setupRich();

  // ----- signature of the chosen identity -----
  var de = document.getElementById("de");
  if (de) {
    var current = de.options[de.selectedIndex] ? de.options[de.selectedIndex].getAttribute("data-signature") : "";
    de.addEventListener("change", function () {
      var next = de.options[de.selectedIndex].getAttribute("data-signature") || "";
      if (current && body.value.indexOf(current) !== -1) {
        body.value = body.value.replace(current, next);
      } else if (next) {
        body.value = body.value.replace(/\s*$/, "") + "\n\n" + next;
      }
      current = next;
      changed = true;
    });
  }

  // ----- automatic draft saving -----
  form.addEventListener("input", function () { changed = true; });
  form.addEventListener("change", function () { changed = true; });
  var pending = null; // the automatic save under way, if any
  // Files over the limit are refused before a long upload, not after it.
  var files = document.getElementById("pj");
  function filesTooBig() {
    if (!files || !files.files) { return false; }
    var total = 0;
    for (var i = 0; i < files.files.length; i++) { total += files.files[i].size; }
    var error = document.getElementById("pj-erreur");
    var over = total > Number(files.getAttribute("data-max"));
    if (error) {
      error.textContent = over ? files.getAttribute("data-toobig") : "";
      error.hidden = !over;
    }
    return over;
  }
  // ----- files too large for a message: sent as a share link -----
  // With file sharing on (data-partage-max), the largest files that put the
  // message over its limit are taken out of the field, uploaded over tus
  // (partage.js) and given as a link written at the end of the message.
  var linking = 0; // uploads under way
  var links = document.getElementById("pj-liens");
  function fill(text, name, extra) {
    var out = text.replace("{name}", name);
    Object.keys(extra || {}).forEach(function (k) { out = out.replace("{" + k + "}", extra[k]); });
    return out;
  }
  function writeLink(j) {
    var line = fill(t("lien-ligne"), j.name, { size: j.size, until: j.until });
    if (!richOn()) {
      body.value = body.value.replace(/\s*$/, "") + "\n\n" + line + "\n" + j.url + "\n";
    } else {
      var p = document.createElement("p");
      p.appendChild(document.createTextNode(line + " "));
      var a = document.createElement("a");
      a.href = j.url;
      a.textContent = j.url;
      p.appendChild(a);
      editor.appendChild(p);
    }
    changed = true;
  }
  function linkOne(file) {
    var li = document.createElement("li");
    li.textContent = fill(t("lien-depot"), file.name, { p: "0" });
    links.appendChild(li);
    links.hidden = false;
    linking++;
    var csrf = form.elements.csrf.value;
    var progress = function (done, total) {
      li.textContent = fill(t("lien-depot"), file.name, { p: String(total ? Math.floor(done * 100 / total) : 100) });
    };
    window.ArdoiseTus.upload(file, { csrf: csrf, progress: progress }).then(function (id) {
      return shareUpload(li, file, id);
    }, function (e) {
      failed(li, file, e.message);
    }).then(function () { linking--; });
  }
  function failed(li, file, why) {
    li.textContent = fill(t("lien-echec"), file.name) + " " + why;
    li.className = "alerte erreur";
  }
  // The uploaded file becomes a link. With the antivirus unavailable (503)
  // the file stays received on the server: the message is saved as a draft
  // at once, the writer is told in words, and « Réessayer » asks again.
  function shareUpload(li, file, id) {
    var data = new URLSearchParams();
    data.set("csrf", form.elements.csrf.value);
    data.set("upload", id);
    return fetch("/courrier/partage/lien", { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 503) {
          li.textContent = fill(t("lien-antivirus"), file.name) + " ";
          li.className = "alerte erreur antivirus-indisponible";
          var again = button(t("lien-reessayer"), function () {
            li.textContent = fill(t("lien-depot"), file.name, { p: "100" });
            li.className = "";
            linking++;
            shareUpload(li, file, id).then(function () { linking--; });
          });
          again.id = "pj-reessayer-" + id;
          li.appendChild(again);
          changed = true;
          save();
          return;
        }
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.json().then(function (j) {
          writeLink(j);
          li.textContent = fill(t("lien-fait"), j.name, { until: j.until });
          li.className = "";
        });
      })
      .catch(function (e) { failed(li, file, e.message); });
  }
  function linkLargeFiles() {
    var shareMax = Number(files.getAttribute("data-partage-max") || 0);
    if (!shareMax || !window.ArdoiseTus || !links || !files.files || !window.DataTransfer) { return; }
    var limit = Number(files.getAttribute("data-max"));
    var list = Array.prototype.slice.call(files.files);
    var total = list.reduce(function (n, f) { return n + f.size; }, 0);
    if (total <= limit) { return; }
    list.sort(function (a, b) { return b.size - a.size; });
    var keep = new DataTransfer();
    var big = [];
    list.forEach(function (f) {
      if (total > limit && f.size <= shareMax) {
        big.push(f);
        total -= f.size;
      } else {
        keep.items.add(f);
      }
    });
    if (!big.length) { return; }
    files.files = keep.files;
    big.forEach(linkOne);
  }
  if (files) {
    files.addEventListener("change", function () { linkLargeFiles(); filesTooBig(); });
  }
  form.addEventListener("submit", function (e) {
    if (linking > 0) {
      e.preventDefault();
      var error = document.getElementById("pj-erreur");
      error.textContent = t("lien-attendre");
      error.hidden = false;
      return;
    }
    if (filesTooBig()) {
      e.preventDefault();
      files.focus();
      return;
    }
    if (pending) {
      // Let the automatic save finish first, so that the draft it files is
      // the one this submit replaces (or deletes once sent).
      e.preventDefault();
      var submitter = e.submitter;
      pending.then(function () {
        if (submitter) { form.requestSubmit(submitter); } else { form.requestSubmit(); }
      });
      return;
    }
    sync();
    sending = true;
  });

  function draftData() {
    sync();
    var data = new FormData(form);
    data.delete("pj"); // files go with the real submit only
    data.set("action", "brouillon");
    data.set("auto", "1");
    return data;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function rebuildKept(names, ref) {
    var list = document.getElementById("liste-gardees");
    if (!list) {
      if (!names.length) { return; }
      var fs = document.createElement("fieldset");
      fs.className = "pieces-gardees";
      fs.id = "pieces-gardees";
      list = document.createElement("ul");
      list.id = "liste-gardees";
      fs.appendChild(list);
      var files = document.getElementById("pj").parentNode;
      files.parentNode.insertBefore(fs, files);
    }
    while (list.firstChild) { list.removeChild(list.firstChild); }
    names.forEach(function (name, n) {
      var li = document.createElement("li");
      var box = document.createElement("input");
      box.type = "checkbox"; box.name = "garder"; box.value = String(n); box.id = "garder-" + n; box.checked = true;
      var label = document.createElement("label");
      label.htmlFor = box.id;
      label.textContent = " " + name;
      li.appendChild(box); li.appendChild(label);
      list.appendChild(li);
    });
    document.getElementById("source").value = ref;
  }
  function save() {
    if (!changed || saving || sending) { return; }
    saving = true;
    changed = false;
    pending = fetch(form.getAttribute("action"), { method: "POST", body: draftData(), credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (j) {
        document.getElementById("brouillon").value = j.brouillon;
        rebuildKept(j.pj || [], j.brouillon);
        var now = new Date();
        status.textContent = t("saved") + " " + pad(now.getHours()) + ":" + pad(now.getMinutes());
      })
      .catch(function () { changed = true; })
      .then(function () { saving = false; pending = null; });
  }
  window.setInterval(save, 30000);
  window.addEventListener("pagehide", function () {
    if (changed && !sending && navigator.sendBeacon) {
      navigator.sendBeacon(form.getAttribute("action"), draftData());
      changed = false;
    }
  });
  form.addEventListener("ardoise-save-now", save); // for tests and other scripts

  // ----- recipient suggestions (ARIA 1.2 combobox with a listbox) -----
  function combobox(input) {
    var list = document.createElement("ul");
    list.id = input.id + "-suggestions";
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", t("suggestions"));
    list.hidden = true;
    /* Right under its field and in the flow: the next field's label moves
     * down instead of being covered. */
    input.parentNode.insertBefore(list, input.nextSibling);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    var items = [];
    var active = -1;
    var timer = null;
    var asked = "";
    function piece() {
      var v = input.value;
      var cut = Math.max(v.lastIndexOf(","), v.lastIndexOf(";"));
      return { before: v.slice(0, cut + 1), word: v.slice(cut + 1).trim() };
    }
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(i) {
      items.forEach(function (li, n) { li.setAttribute("aria-selected", n === i ? "true" : "false"); });
      active = i;
      if (i >= 0) {
        input.setAttribute("aria-activedescendant", items[i].id);
        items[i].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function choose(i) {
      var p = piece();
      var before = p.before ? p.before.replace(/\s*$/, " ") : "";
      input.value = before + items[i].getAttribute("data-valeur") + ", ";
      close();
      changed = true;
      input.focus();
    }
    function show(people) {
      // An answer that arrives after the writer moved on to another field
      // opens nothing: the list would push the form down under their pointer.
      if (document.activeElement !== input) { close(); return; }
      while (list.firstChild) { list.removeChild(list.firstChild); }
      items = people.map(function (p, n) {
        var li = document.createElement("li");
        li.id = list.id + "-" + n;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.setAttribute("data-valeur", p.texte);
        li.textContent = p.texte;
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(n); });
        list.appendChild(li);
        return li;
      });
      if (items.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        highlight(-1);
      } else {
        close();
      }
    }
    function ask() {
      var word = piece().word;
      if (word.length < 2) { close(); return; }
      if (word === asked) { return; }
      asked = word;
      fetch("/courrier/destinataires?q=" + encodeURIComponent(word), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (people) { if (asked === word) { show(people); } })
        .catch(close);
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) {
        if (e.key === "ArrowDown") { asked = ""; ask(); }
        return;
      }
      if (e.key === "ArrowDown") {
        e.preventDefault();
        highlight((active + 1) % items.length);
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (e.key === "Enter") {
        if (active >= 0) { e.preventDefault(); choose(active); }
      } else if (e.key === "Escape") {
        e.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 100); });
  }
  ["to", "cc", "cci"].forEach(function (id) {
    var input = document.getElementById(id);
    if (input) { combobox(input); }
  });
}());
