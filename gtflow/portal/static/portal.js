/* gtflow portal task page: posts the crowd-form answer, shortcuts, prefetch of the next task. */
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
  var status = document.getElementById("gtp-status");
  var submitBtn = document.getElementById("gtp-submit");
  var skipLink = document.getElementById("gtp-skip");
  var help = document.getElementById("gtp-help");
  var helpToggle = document.getElementById("gtp-help-toggle");
  var sending = false;

  function say(text, bad) {
    status.textContent = text || "";
    status.classList.toggle("gtp-bad", !!bad);
  }

  function theForm() { return document.querySelector("#task-root crowd-form"); }

  function submitTask() {
    if (sending) return;
    var form = theForm();
    if (!form || typeof form.submitTask !== "function") { say("This task has no crowd-form to submit.", true); return; }
    form.submitTask();
  }

  // The crowd-form has validated and collected the answer; post it.
  document.addEventListener("crowd-form-submit", function (ev) {
    ev.preventDefault();
    if (sending) return;
    sending = true;
    submitBtn.disabled = true;
    say("Submitting…");
    fetch(cfg.submitUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": cfg.csrf },
      body: JSON.stringify(ev.detail.answer),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
    }).then(function (res) {
      if (res.ok) {
        say(res.data.duplicate ? "Already submitted; opening the next task…" : "Submitted; opening the next task…");
        body.setAttribute("data-submitted", "true");
        window.location.assign(res.data.next || cfg.nextUrl);
        return;
      }
      if (res.status === 401) { window.location.assign("/signin?next=" + encodeURIComponent(window.location.pathname)); return; }
      sending = false; submitBtn.disabled = false;
      say("Not submitted: " + (res.data.error || ("HTTP " + res.status)), true);
    }).catch(function (err) {
      sending = false; submitBtn.disabled = false;
      say("Not submitted (network): " + err.message, true);
    });
  });

  submitBtn.addEventListener("click", submitTask);
  helpToggle.addEventListener("click", function () {
    help.hidden = !help.hidden;
    helpToggle.setAttribute("aria-expanded", help.hidden ? "false" : "true");
  });

  function typing(ev) {
    var t = ev.target, tag = t && t.tagName ? t.tagName.toLowerCase() : "";
    return tag === "textarea" || tag === "select" || (t && t.isContentEditable) ||
      (tag === "input" && !/^(checkbox|radio|range|button|submit|reset)$/i.test(t.type || "text"));
  }

  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") { ev.preventDefault(); submitTask(); return; }
    if (ev.altKey && !ev.ctrlKey && !ev.metaKey && (ev.key === "n" || ev.key === "N" || ev.code === "KeyN")) {
      ev.preventDefault(); window.location.assign(skipLink.href); return;
    }
    if (ev.key === "?" && !typing(ev)) { ev.preventDefault(); helpToggle.click(); }
  });

  // Warm the browser cache with the next task's images while this one is being done.
  var prefetched = [];
  function prefetch() {
    if (!cfg.prefetchUrl || !window.fetch) return;
    fetch(cfg.prefetchUrl, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data || !data.urls) return;
      data.urls.slice(0, 16).forEach(function (u) { var im = new Image(); im.src = u; prefetched.push(im); });
      body.setAttribute("data-prefetched", data.taskId || "");
    }).catch(function () {});
  }
  if (document.readyState === "complete") setTimeout(prefetch, 300);
  else window.addEventListener("load", function () { setTimeout(prefetch, 300); });
})();
