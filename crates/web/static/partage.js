// « Partage de fichiers »: a small tus 1.0 client (creation, HEAD, PATCH),
// `window.ArdoiseTus.upload`, used by the upload page (with a progress bar)
// and by the composer (a file too large for a message becomes a link). The
// file is sent in pieces of 8 MiB; after a dropped connection the client
// asks the server where it stands (HEAD) and resumes from there, several
// times with growing pauses; so too while the server still writes the cut
// piece (423, until it sees the connection is gone). On the upload page, once every byte is
// acknowledged, the upload's id goes into the form, which is then posted as
// usual (the server creates the share or the new version).
"use strict";
(function () {
  var PIECE = 8 * 1024 * 1024;
  var TRIES = 8;

  function b64(text) {
    var bytes = new TextEncoder().encode(text);
    var s = "";
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s);
  }

  function pause(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function fail(xhr) {
    var text = xhr && xhr.responseText ? xhr.responseText : String(xhr && xhr.status || "");
    throw new Error(text);
  }

  // Uploads `file`; `o`: csrf, partage (a share's id, for a new version),
  // progress(done, total), retry() (a dropped connection, resuming).
  // Resolves with the upload's id.
  async function upload(file, o) {
    // One request; resolves with the XHR whatever its status, rejects on a network failure.
    function send(method, url, headers, body, onProgress) {
      return new Promise(function (resolve, reject) {
        var xhr = new XMLHttpRequest();
        xhr.open(method, url);
        headers["Tus-Resumable"] = "1.0.0";
        headers["X-CSRF-Token"] = o.csrf;
        Object.keys(headers).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
        if (onProgress) { xhr.upload.onprogress = onProgress; }
        xhr.onload = function () { resolve(xhr); };
        xhr.onerror = function () { reject(new Error("network")); };
        xhr.send(body);
      });
    }
    async function offset(url) {
      var xhr = await send("HEAD", url, {}, null);
      if (xhr.status !== 200) { fail(xhr); }
      return Number(xhr.getResponseHeader("Upload-Offset"));
    }
    var progress = o.progress || function () {};
    var meta = "filename " + b64(file.name);
    if (o.partage) { meta += ",partage " + b64(o.partage); }
    var made = await send("POST", "/partage/televersement/", {
      "Upload-Length": String(file.size),
      "Upload-Metadata": meta
    }, null);
    if (made.status !== 201) { fail(made); }
    var url = made.getResponseHeader("Location");
    var at = 0;
    var tries = 0;
    while (at < file.size) {
      var end = Math.min(at + PIECE, file.size);
      var start = at;
      try {
        var xhr = await send("PATCH", url, {
          "Upload-Offset": String(start),
          "Content-Type": "application/offset+octet-stream"
        }, file.slice(start, end), function (e) { progress(start + e.loaded, file.size); });
        if (xhr.status === 204) {
          at = Number(xhr.getResponseHeader("Upload-Offset"));
          tries = 0;
        } else if (xhr.status === 423) {
          // The server is still writing the piece a dropped connection was
          // sending (it has not seen the drop yet): wait, then ask again.
          if (++tries > TRIES) { fail(xhr); }
          if (o.retry) { o.retry(); }
          await pause(Math.min(1000 * tries, 10000));
          at = await offset(url);
        } else if (xhr.status === 409) {
          at = await offset(url);
        } else if (xhr.status >= 500) {
          // A server in trouble (the antivirus away, a full disk) is asked
          // again after growing pauses, a bounded number of times.
          if (++tries > TRIES) { fail(xhr); }
          if (o.retry) { o.retry(); }
          await pause(Math.min(1000 * tries, 10000));
          at = await offset(url);
        } else {
          fail(xhr);
        }
      } catch (e) {
        if (e.message !== "network" || ++tries > TRIES) { throw e; }
        if (o.retry) { o.retry(); }
        await pause(Math.min(1000 * tries, 10000));
        at = await offset(url).catch(function () { return at; });
      }
      progress(at, file.size);
    }
    return url.split("/").pop();
  }

  window.ArdoiseTus = { upload: upload };

  var form = document.getElementById("partage-formulaire");
  if (!form) { return; }
  var input = document.getElementById("partage-fichier");
  var hidden = document.getElementById("partage-televersement");
  var zone = document.getElementById("partage-progression");
  var bar = document.getElementById("partage-barre");
  var percent = document.getElementById("partage-pourcent");
  var message = document.getElementById("partage-message");
  var button = document.getElementById("partage-envoyer");

  function say(text) { message.textContent = text; }

  function show(done, total) {
    var p = total ? Math.floor(done * 100 / total) : 100;
    bar.value = p;
    percent.textContent = p + " %";
  }

  form.addEventListener("submit", function (event) {
    if (hidden.value) { return; }
    event.preventDefault();
    var file = input.files && input.files[0];
    if (!file) { input.focus(); return; }
    if (input.dataset.max && file.size > Number(input.dataset.max)) { say(form.dataset.trop); return; }
    button.disabled = true;
    zone.hidden = false;
    show(0, file.size);
    var options = {
      csrf: form.dataset.csrf,
      partage: form.dataset.partage,
      progress: show,
      retry: function () { say(form.dataset.reprise); }
    };
    upload(file, options).then(function (id) {
      say(form.dataset.fini);
      hidden.value = id;
      form.submit();
    }, function (e) {
      button.disabled = false;
      say(form.dataset.erreur + " " + e.message);
    });
  });
})();
