/* Ardoise webmail: enhancements only. Every action here also exists as a
 * plain link or form; without this script nothing is lost but comfort.
 * - live updates over server-sent events (/courrier/evenements): unread
 *   counts, the new row at the top of the open folder (rendered by the
 *   server with the list's row template), the Inbox count in the tab title;
 * - keyboard shortcuts (c r a f j k Enter v u # / ?), ignored while typing;
 *   with a reading pane, Enter opens the chosen message beside the list,
 *   v goes into the message and u back to its row;
 * - drag and drop of a message row onto a folder (the move form's POST);
 * - selection: every message of the page at once, then the whole folder
 *   (a checkbox of the form, shown once the page is selected), and
 *   shift-click ranges;
 * - on narrow screens, buttons folding the folder list and the sort form
 *   away, and the bulk actions shown once a message is selected (a compact
 *   toolbar at the bottom of the screen); without the script every form is
 *   simply shown.
 * - an HTML mail's frame at the mail's own height: the frame's one script
 *   (nonce'd, in an opaque-origin sandbox) posts its height; only messages
 *   from that frame count, and the height is bounded;
 * - on a phone, a message's actions folded behind one « Actions » button
 *   (the message comes first; without the script they are all shown);
 * - browser notifications of new mail when the reader chose them
 *   (Réglages → Lecture: every message, or priority ones only) and the
 *   browser allows them; permission is asked only on a click (saving that
 *   choice, or « Autoriser »);
 * - calendar reminders as they fire (the stream's `rappels`), in a box at
 *   the top with « Fermer », and as a browser notification when allowed;
 * - the countdown of a message waiting to be sent (« Annuler l'envoi »),
 *   and the page reloaded when it is due (the server then says it went);
 * Texts come from data attributes of <body>, set by the server in the
 * reader's language. No inline script or style: the CSP forbids both. */
(function () {
  "use strict";

  var body = document.body;
  if (!body || !body.classList.contains("courrier")) { return; }

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  /* ----- announcements for screen readers ----- */
  function announce(text) {
    var zone = $("#annonces");
    if (!zone) { return; }
    zone.textContent = "";
    window.setTimeout(function () { zone.textContent = text; }, 50);
  }

  /* ----- where we are ----- */
  function folderIdOf(link) {
    var m = /^\/courrier\/(\d+)$/.exec(link.getAttribute("href") || "");
    return m ? m[1] : null;
  }
  function currentFolder() {
    var link = $("nav.dossiers a[aria-current=page]");
    return link ? folderIdOf(link) : null;
  }
  function onFirstPage() {
    var params = new URLSearchParams(window.location.search);
    return !params.has("avant") && !params.has("q");
  }
  function csrf() {
    var input = $("input[name=csrf]");
    return input ? input.value : "";
  }

  /* ----- live updates ----- */
  var baseTitle = document.title.replace(/^\(\d+\) /, "");

  function setCount(link, unread) {
    var badge = $(".compteur", link);
    if (unread <= 0) {
      if (badge) { badge.parentNode.removeChild(badge); }
      return;
    }
    if (!badge) {
      link.appendChild(document.createTextNode(" "));
      badge = document.createElement("span");
      badge.className = "compteur";
      link.appendChild(badge);
    }
    badge.textContent = String(unread);
    var sr = document.createElement("span");
    sr.className = "sr-only";
    sr.textContent = " " + (body.getAttribute("data-nonlus") || "");
    badge.appendChild(sr);
  }

  function applyState(state) {
    if (!state || !state.folders) { return; }
    var links = {};
    $all("nav.dossiers a").forEach(function (a) {
      var id = folderIdOf(a);
      if (id) { links[id] = a; }
    });
    state.folders.forEach(function (f) {
      var link = links[String(f.id)];
      if (link) { setCount(link, f.unread); }
      if (state.inbox === f.id) {
        document.title = (f.unread > 0 ? "(" + f.unread + ") " : "") + baseTitle;
      }
    });
  }

  /* The row as the server rendered it with the list's own template
   * (escaped there): the same five cells, checkbox included. */
  function rowFor(r) {
    var holder = document.createElement("template");
    holder.innerHTML = "<table><tbody>" + (r.html || "") + "</tbody></table>";
    var tr = holder.content.querySelector("tr");
    if (tr) { tr.classList.add("nouveau"); }
    return tr;
  }

  function onNew(data) {
    applyState(data);
    if (!data.row) { return; }
    /* A message the reader moved or copied there is not news: the move
     * announces itself ("déplacé vers ..."), and must not be drowned out. */
    if (!data.filed) {
      announce((body.getAttribute("data-annonce-nouveau") || "") + " " + data.row.from + " : " + data.row.subject);
      notify(data);
    }
    if (String(data.mailbox) !== currentFolder() || !onFirstPage()) { return; }
    var tbody = $("table#messages tbody");
    if (!tbody || $("a[href='" + data.row.href + "']", tbody)) { return; }
    var tr = rowFor(data.row);
    if (!tr) { return; }
    tbody.insertBefore(tr, tbody.firstChild);
    enableDrag(tr);
    syncSelection();
  }

  /* ----- browser notifications ----- */
  function notify(data) {
    var mode = body.getAttribute("data-notifier");
    if (!window.Notification || Notification.permission !== "granted") { return; }
    if (mode !== "tous" && !(mode === "prioritaires" && data.prioritaire)) { return; }
    var title = body.getAttribute(data.prioritaire ? "data-notif-prioritaire" : "data-notif-nouveau") || "";
    var n = new Notification(title, {
      body: data.row.from + " : " + data.row.subject,
      tag: "ardoise-" + data.mailbox + "-" + data.uid,
      lang: document.documentElement.lang
    });
    n.onclick = function () { window.focus(); window.location.href = data.row.href; n.close(); };
  }

  var permission = $("#notif-permission");
  if (permission) {
    var allow = $("#notif-autoriser");
    var state = $("#notif-etat");
    var showPermission = function () {
      if (!window.Notification) {
        allow.hidden = true;
        state.textContent = permission.getAttribute("data-absent") || "";
        return;
      }
      var p = Notification.permission;
      allow.hidden = p !== "default";
      state.textContent = p === "granted" ? permission.getAttribute("data-accorde") || ""
        : p === "denied" ? permission.getAttribute("data-refuse") || "" : "";
    };
    permission.hidden = false;
    allow.addEventListener("click", function () {
      Notification.requestPermission().then(showPermission, showPermission);
    });
    showPermission();
    /* Saving « notifications on » is the click that asks the browser. */
    var settings = $("#form-lecture");
    settings.addEventListener("submit", function (e) {
      var choice = $("input[name=notifications]:checked", settings);
      if (choice && choice.value !== "non" && window.Notification && Notification.permission === "default") {
        e.preventDefault();
        var go = function () { settings.submit(); };
        Notification.requestPermission().then(go, go);
      }
    });
  }

  /* ----- calendar reminders ----- */
  /* The reminders that fired and are not dismissed, in a box at the top of
   * the page (a live region); « Fermer » posts what /agenda/rappels's own
   * form posts. A reminder not seen before in this tab is also a browser
   * notification when the browser allows them. */
  var remindersSeen = {};
  function showReminders(d) {
    var box = $("#rappels-direct");
    if (!box) {
      box = document.createElement("section");
      box.id = "rappels-direct";
      box.className = "rappels-direct";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      var main = $("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = "";
    box.hidden = !d.items.length;
    if (!d.items.length) { return; }
    var h = document.createElement("h2");
    h.textContent = d.titre;
    box.appendChild(h);
    var list = document.createElement("ul");
    d.items.forEach(function (r) {
      var li = document.createElement("li");
      li.className = "rappel";
      var title = document.createElement("strong");
      title.textContent = r.title;
      li.appendChild(title);
      li.appendChild(document.createTextNode(" — " + r.when + (r.location ? " (" + r.location + ")" : "") + " "));
      if (r.href) {
        var a = document.createElement("a");
        a.href = r.href;
        a.textContent = d.voir;
        li.appendChild(a);
        li.appendChild(document.createTextNode(" "));
      }
      var csrf = $("input[name=csrf]");
      if (csrf) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "fermer-rappel";
        b.textContent = d.fermer;
        b.setAttribute("aria-label", d.fermer + " — " + r.title);
        b.addEventListener("click", function () {
          var body = new URLSearchParams();
          body.append("csrf", csrf.value);
          body.append("action", "fermer");
          body.append("rappel", String(r.id));
          body.append("reponse", "json");
          fetch("/agenda/rappels", { method: "POST", body: body, credentials: "same-origin" }).then(function (resp) {
            if (resp.ok) {
              li.remove();
              if (!$("li", list)) { box.hidden = true; }
            }
          });
        });
        li.appendChild(b);
      }
      list.appendChild(li);
      if (!remindersSeen[r.id] && window.Notification && Notification.permission === "granted") {
        var n = new Notification(d.titre + " : " + r.title, { body: r.when, tag: "ardoise-rappel-" + r.id });
        n.onclick = function () { window.focus(); n.close(); };
      }
      remindersSeen[r.id] = true;
    });
    box.appendChild(list);
  }

  function listen() {
    if (!window.EventSource || !$("nav.dossiers")) { return; }
    var source = new EventSource("/courrier/evenements");
    function parse(e) {
      try { return JSON.parse(e.data); } catch (err) { return null; }
    }
    source.addEventListener("etat", function (e) { applyState(parse(e)); });
    source.addEventListener("nouveau", function (e) { var d = parse(e); if (d) { onNew(d); } });
    source.addEventListener("rappels", function (e) { var d = parse(e); if (d) { showReminders(d); } });
    source.addEventListener("fin", function () { source.close(); });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  /* ----- keyboard ----- */
  /* A row's link as the screen shows it: with a reading pane, a row has
   * one link to the pane and one to the message's page, one of them hidden
   * by the width (the phone keeps the page). */
  function openLink(tr) {
    var links = $all(".objet a", tr).filter(function (a) { return a.getClientRects().length > 0; });
    return links[0] || $(".objet a", tr);
  }
  /* The message's own page (for deleting, dragging). */
  function pageLink(tr) { return $(".objet a.ouvrir-page", tr) || $(".objet a", tr); }
  function rows() {
    return $all("table.messages tbody tr").filter(function (tr) { return $(".objet a", tr); });
  }
  function chosen() { return $("table.messages tbody tr.choisi"); }

  function choose(step) {
    var list = rows();
    if (!list.length) { return; }
    var now = chosen();
    var i = now ? list.indexOf(now) + step : (step > 0 ? 0 : list.length - 1);
    i = Math.max(0, Math.min(list.length - 1, i));
    if (now) { now.classList.remove("choisi"); }
    list[i].classList.add("choisi");
    var link = openLink(list[i]);
    link.focus();
    list[i].scrollIntoView({ block: "nearest" });
  }

  function follow(sel) {
    var el = $(sel);
    if (!el) { return false; }
    el.click();
    return true;
  }

  function post(action, fields) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = action;
    form.className = "sr-only";
    Object.keys(fields).forEach(function (k) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = k;
      input.value = fields[k];
      form.appendChild(input);
    });
    body.appendChild(form);
    form.submit();
  }

  function remove() {
    if (follow("#supprimer")) { return; }
    var tr = chosen();
    var link = tr && pageLink(tr);
    if (link) { post(link.getAttribute("href"), { csrf: csrf(), action: "supprimer" }); }
  }

  function help() {
    var dialog = $("#raccourcis-dialogue");
    if (dialog && typeof dialog.showModal === "function") {
      if (!dialog.open) { dialog.showModal(); }
    } else {
      window.location.href = "/courrier/raccourcis";
    }
  }

  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || typing(e.target)) { return; }
    var dialog = $("#raccourcis-dialogue");
    if (dialog && dialog.open) { return; }
    var done = true;
    switch (e.key) {
      case "c": done = follow("#ecrire"); break;
      case "r": done = follow("#repondre"); break;
      case "a": done = follow("#repondre-tous"); break;
      case "f": done = follow("#transferer"); break;
      case "j": choose(1); break;
      case "k": choose(-1); break;
      case "Enter": {
        var tr = chosen();
        var link = tr && openLink(tr);
        if (link && document.activeElement !== link) { link.click(); } else { done = false; }
        break;
      }
      case "v": done = intoPane(); break;
      case "u": done = backToList(); break;
      case "#": remove(); break;
      case "/": {
        var box = $("#recherche");
        if (box) { box.focus(); box.select(); } else { done = false; }
        break;
      }
      case "?": help(); break;
      default: done = false;
    }
    if (done) { e.preventDefault(); }
  });

  /* ----- the reading pane ----- */
  function intoPane() {
    var title = $("#volet #objet");
    if (!title || title.getClientRects().length === 0) { return false; }
    title.setAttribute("tabindex", "-1");
    title.focus();
    return true;
  }
  function backToList() {
    var tr = chosen() || $("table.messages tbody tr.courant");
    if (!tr || !$("#volet")) { return false; }
    if (!tr.classList.contains("choisi")) { tr.classList.add("choisi"); }
    openLink(tr).focus();
    return true;
  }
  /* The row read in the pane is the chosen one: j and k go on from it. */
  var shownRow = $("table.messages tbody tr.courant");
  if (shownRow) {
    shownRow.classList.add("choisi");
    /* Under the list, the list scrolls in its own box: the row read shows there. */
    var box = shownRow.closest(".volet-dessous .liste");
    if (box) { box.scrollTop += shownRow.getBoundingClientRect().top - box.getBoundingClientRect().top - box.clientHeight / 2; }
  }

  var helpLink = $("#lien-raccourcis");
  if (helpLink) {
    helpLink.addEventListener("click", function (e) { e.preventDefault(); help(); });
  }

  /* ----- drag and drop onto folders ----- */
  var TYPE = "application/x-ardoise-message";
  var dragged = null;

  function enableDrag(tr) {
    var link = pageLink(tr);
    if (!link || !/^\/courrier\/\d+\/\d+$/.test(link.getAttribute("href") || "")) { return; }
    tr.setAttribute("draggable", "true");
    tr.addEventListener("dragstart", function (e) {
      dragged = tr;
      tr.classList.add("glisse");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData(TYPE, link.getAttribute("href"));
      e.dataTransfer.setData("text/plain", link.textContent);
    });
    tr.addEventListener("dragend", function () {
      tr.classList.remove("glisse");
      dragged = null;
      $all("nav.dossiers a.cible").forEach(function (a) { a.classList.remove("cible"); });
    });
  }

  function dropOn(target) {
    var id = folderIdOf(target);
    target.addEventListener("dragover", function (e) {
      if (!dragged || id === currentFolder()) { return; }
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      target.classList.add("cible");
    });
    target.addEventListener("dragleave", function () { target.classList.remove("cible"); });
    target.addEventListener("drop", function (e) {
      e.preventDefault();
      target.classList.remove("cible");
      var href = e.dataTransfer.getData(TYPE);
      var row = dragged;
      if (!href || !id) { return; }
      var form = new URLSearchParams();
      form.set("csrf", csrf());
      form.set("action", "deplacer");
      form.set("dossier", id);
      fetch(href, {
        method: "POST",
        body: form,
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" }
      }).then(function (res) {
        if (!res.ok) { throw new Error(String(res.status)); }
        if (row && row.parentNode) { row.parentNode.removeChild(row); }
        var name = $(".nom-dossier", target);
        announce((body.getAttribute("data-annonce-deplace") || "") + " " + (name ? name.textContent : ""));
      }).catch(function () {
        announce(body.getAttribute("data-annonce-echec") || "");
      });
    });
  }

  /* ----- selection: the page, the whole folder, ranges ----- */
  function boxes() { return $all("table#messages tbody input[name=uid]"); }

  /* The page's checkbox follows the rows; the folder's is offered only
   * once every row of the page is ticked. */
  function syncSelection() {
    var list = boxes();
    var on = list.filter(function (b) { return b.checked; }).length;
    var all = $("#tout-page");
    var full = list.length > 0 && on === list.length;
    if (all) {
      all.checked = full;
      all.indeterminate = on > 0 && !full;
    }
    var bulk = $(".actions-lot");
    if (bulk) { bulk.classList.toggle("sans-choix", on === 0); }
    var scope = $("#portee");
    if (scope) {
      scope.classList.toggle("cache", !full);
      if (!full) { $("#tout-dossier").checked = false; }
    }
  }

  function enableSelection() {
    var table = $("table#messages");
    if (!table) { return; }
    var last = null;
    table.addEventListener("click", function (e) {
      var box = e.target;
      if (!box || box.name !== "uid" || box.type !== "checkbox") { return; }
      var list = boxes();
      var from = last ? list.indexOf(last) : -1;
      if (e.shiftKey && from >= 0) {
        var to = list.indexOf(box);
        list.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (b) { b.checked = box.checked; });
      }
      last = box;
      syncSelection();
    });
    var all = $("#tout-page");
    if (all) {
      all.hidden = false;
      all.addEventListener("change", function () {
        var on = all.checked;
        boxes().forEach(function (b) { b.checked = on; });
        syncSelection();
      });
    }
    syncSelection();
  }

  /* ----- folders folded away on narrow screens ----- */
  function foldFolders() {
    var nav = $("nav.dossiers");
    var list = nav && $("ul", nav);
    if (!list) { return; }
    list.id = list.id || "liste-dossiers";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "plier-dossiers";
    button.setAttribute("aria-controls", list.id);
    button.textContent = body.getAttribute("data-dossiers") || "";
    var narrow = window.matchMedia("(max-width: 700px)");
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("replie", !open);
    }
    button.addEventListener("click", function () {
      set(button.getAttribute("aria-expanded") !== "true");
    });
    function fit() { set(!narrow.matches); }
    if (narrow.addEventListener) { narrow.addEventListener("change", fit); }
    nav.insertBefore(button, nav.firstChild);
    fit();
  }

  /* On a phone (700px wide or less), `targets` folded behind `button`,
     put before `anchor`; on a computer, the button hidden and all shown. */
  function foldOnPhone(button, anchor, targets) {
    anchor.parentNode.insertBefore(button, anchor);
    var narrow = window.matchMedia("(max-width: 700px)");
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      targets.forEach(function (t) { t.classList.toggle("replie", !open); });
    }
    button.addEventListener("click", function () { set(button.getAttribute("aria-expanded") !== "true"); });
    function fit() {
      button.hidden = !narrow.matches;
      set(!narrow.matches);
    }
    if (narrow.addEventListener) { narrow.addEventListener("change", fit); }
    fit();
  }

  function foldButton(id, label) {
    var button = document.createElement("button");
    button.type = "button";
    button.id = id;
    button.className = id;
    button.textContent = body.getAttribute(label) || "";
    return button;
  }

  /* The sort form behind a button on narrow screens. */
  function foldSort() {
    var sort = $("#form-tri");
    if (!sort) { return; }
    var button = foldButton("plier-tri", "data-trier");
    button.setAttribute("aria-controls", "form-tri");
    foldOnPhone(button, sort, [sort]);
  }

  /* ----- on a phone, a message's actions behind one button ----- */
  function foldActions() {
    var groups = $all("article.lecture > .actions");
    if (!groups.length) { return; }
    foldOnPhone(foldButton("plier-actions", "data-actions"), groups[0], groups);
  }

  /* ----- a message waiting to be sent: count down, then ask again ----- */
  function countDown() {
    var p = $("#envoi-decompte");
    var secs = $("#envoi-secondes");
    if (!p || !secs) { return; }
    var due = Date.now() + 1000 * (parseInt(p.getAttribute("data-restant"), 10) || 0);
    function tick() {
      var left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      secs.textContent = String(left);
      if (left > 0) { window.setTimeout(tick, 250); return; }
      /* The sender claims the message within a moment of its time. */
      window.setTimeout(function () { window.location.assign(p.getAttribute("data-suite")); }, 700);
    }
    tick();
  }

  /* ----- an HTML mail at its own height ----- */
  var FRAME_MIN = 48, FRAME_MAX = 60000, FRAME_CHANGES = 60;
  function fitFrame() {
    var frame = $("iframe#corps");
    if (!frame) { return; }
    var changes = 0;
    window.addEventListener("message", function (e) {
      /* Only the frame's own window; its origin is opaque ("null"). */
      if (!frame.contentWindow || e.source !== frame.contentWindow) { return; }
      var h = e.data && typeof e.data === "object" ? Number(e.data.ardoiseHauteur) : NaN;
      /* A mail whose height follows the frame's (100vh...) would grow forever: a bounded number of changes. */
      if (!isFinite(h) || changes >= FRAME_CHANGES) { return; }
      changes += 1;
      frame.style.height = Math.min(Math.max(Math.ceil(h), FRAME_MIN), FRAME_MAX) + "px";
      frame.classList.add("ajuste");
    });
    function ask() {
      if (frame.contentWindow) { frame.contentWindow.postMessage("ardoise-hauteur", "*"); }
    }
    frame.addEventListener("load", ask);
    ask();
  }

  fitFrame();
  foldActions();
  countDown();
  rows().forEach(enableDrag);
  $all("nav.dossiers a").forEach(function (a) { if (folderIdOf(a)) { dropOn(a); } });
  foldFolders();
  foldSort();
  enableSelection();
  listen();
}());
