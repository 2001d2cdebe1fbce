/* gtflow portal task page: the task runs in a sandboxed frame (static/frame.js); this page
 * holds the session, posts the answer the frame hands over, and owns the shortcuts. */
(function () {
  "use strict";
  var body = document.body;
  var cfg = {
    submitUrl: body.getAttribute("data-submit-url"),
    nextUrl: body.getAttribute("data-next-url"),
    prefetchUrl: body.getAttribute("data-prefetch-url"),
    csrf: body.getAttribute("data-csrf"),
    taskId: body.getAttribute("data-task-id"),
  };
  var frame = document.getElementById("gtp-frame");
  var status = document.getElementById("gtp-status");
  var submitBtn = document.getElementById("gtp-submit");
  var skipLink = document.getElementById("gtp-skip");
  var help = document.getElementById("gtp-help");
  var helpToggle = document.getElementById("gtp-help-toggle");
  var sending = false, dirty = false, done = false, imageFailed = false;

  function say(text, bad) {
    status.textContent = text || "";
    status.classList.toggle("gtp-bad", !!bad);
  }
  function toFrame(msg) { if (frame && frame.contentWindow) frame.contentWindow.postMessage(msg, "*"); }

  function submitTask() {
    if (sending) return;
    if (imageFailed) { say("An image of this task failed to load, so it cannot be submitted. Skip it or reload.", true); return; }
    toFrame({ gtflow: "submit" });
  }

  function post(answer) {
    if (sending) return;
    sending = true;
    submitBtn.disabled = true;
    say("Submitting…");
    fetch(cfg.submitUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": cfg.csrf },
      body: JSON.stringify(answer),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
    }).then(function (res) {
      if (res.ok) {
        done = true;
        say(res.data.duplicate ? "Already submitted; opening the next task…" : "Submitted; opening the next task…");
        body.setAttribute("data-submitted", "true");
        window.location.assign(res.data.next || cfg.nextUrl);
        return;
      }
      if (res.status === 401) { window.location.assign("/signin?next=" + encodeURIComponent(window.location.pathname)); return; }
      sending = false; submitBtn.disabled = false;
      var error = res.data.error || ("HTTP " + res.status);
      say("Not submitted: " + error, true);
      body.setAttribute("data-refused", error);
      toFrame({ gtflow: "server-refused", error: error });
    }).catch(function (err) {
      sending = false; submitBtn.disabled = false;
      say("Not submitted (network): " + err.message, true);
    });
  }

  function skip() {
    if (dirty && !window.confirm("Skip this task? What you changed in it is not saved.")) return;
    done = true;
    window.location.assign(skipLink.href);
  }

  // Only messages from our own task frame count.
  window.addEventListener("message", function (ev) {
    if (!frame || ev.source !== frame.contentWindow || !ev.data || typeof ev.data !== "object") return;
    var d = ev.data;
    if (d.gtflow === "answer") post(d.answer);
    else if (d.gtflow === "dirty") dirty = true;
    else if (d.gtflow === "image-error") { imageFailed = true; say("An image of this task failed to load, so it cannot be submitted. Skip it or reload.", true); }
    else if (d.gtflow === "refused") body.setAttribute("data-refused", String(d.error || ""));
    else if (d.gtflow === "ready") { body.setAttribute("data-frame-ready", "true"); prefetch(); }
    else if (d.gtflow === "key") {
      if (d.key === "skip") skip();
      else if (d.key === "help") helpToggle.click();
    }
  });

  submitBtn.addEventListener("click", submitTask);
  skipLink.addEventListener("click", function (ev) { ev.preventDefault(); skip(); });
  helpToggle.addEventListener("click", function () {
    help.hidden = !help.hidden;
    helpToggle.setAttribute("aria-expanded", help.hidden ? "false" : "true");
  });
  // Leaving with unsaved work (reload, close, back) asks first.
  window.addEventListener("beforeunload", function (ev) {
    if (dirty && !done) { ev.preventDefault(); ev.returnValue = ""; }
  });

  function typing(ev) {
    var t = ev.target, tag = t && t.tagName ? t.tagName.toLowerCase() : "";
    return tag === "textarea" || tag === "select" || (t && t.isContentEditable) ||
      (tag === "input" && !/^(checkbox|radio|range|button|submit|reset)$/i.test(t.type || "text"));
  }
  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") { ev.preventDefault(); submitTask(); return; }
    if (ev.altKey && !ev.ctrlKey && !ev.metaKey && (ev.key === "n" || ev.key === "N" || ev.code === "KeyN")) {
      ev.preventDefault(); skip(); return;
    }
    if (ev.key === "?" && !typing(ev)) { ev.preventDefault(); helpToggle.click(); return; }
    // Tool keys pressed while the focus is on the bar (after clicking it) go to the task.
    var onControl = ev.target && /^(a|button|summary)$/i.test(ev.target.tagName || "") && (ev.key === "Enter" || ev.key === " ");
    if (!typing(ev) && !onControl && !ev.altKey && (TOOL_KEY.test(ev.key) || ((ev.ctrlKey || ev.metaKey) && /^[zy]$/i.test(ev.key)))) {
      ev.preventDefault();
      toFrame({ gtflow: "key", key: ev.key, ctrlKey: ev.ctrlKey, metaKey: ev.metaKey, shiftKey: ev.shiftKey });
      try { frame.contentWindow.focus(); } catch (e) { /* ignore */ }
    }
  });
  var TOOL_KEY = /^([1-9]|Delete|Backspace|Escape|Enter|\+|-|=|_|0|\[|\]|e|E|n|N)$/;

  // The task gets the keyboard as soon as it is there.
  if (frame) frame.addEventListener("load", function () { try { frame.contentWindow.focus(); } catch (e) { /* ignore */ } });

  // Warm the cache with the next task's images (loaded inside the frame: cross-site frames
  // share one cache partition, the portal page has another).
  var asked = false;
  function prefetch() {
    if (asked || !cfg.prefetchUrl || !window.fetch) return;
    asked = true;
    setTimeout(function () {
      fetch(cfg.prefetchUrl, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (!data || !data.urls) return;
        toFrame({ gtflow: "prefetch", urls: data.urls.slice(0, 16) });
        body.setAttribute("data-prefetched", data.taskId || "");
      }).catch(function () {});
    }, 300);
  }
})();
