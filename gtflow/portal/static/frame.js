/* gtflow portal: runs inside the sandboxed task frame (opaque origin: no cookies, no storage,
 * no network beyond the portal's own static files and signed file URLs).
 *
 * The template runs here as in GT's worker UI: its scripts, onsubmit validation and
 * crowd-form submit handlers. When a crowd-form (or a self-submitting element) has an answer,
 * this posts it to the portal page around the frame, which sends it with the worker's session.
 */
(function () {
  "use strict";
  var parentOrigin = window.location.origin;  // the portal's (the frame's own origin is opaque)
  var failedImages = [];
  var dirty = false;

  function tell(msg) { window.parent.postMessage(msg, parentOrigin); }

  function errorBox() {
    var box = document.getElementById("gtp-frame-errors");
    if (!box) {
      box = document.createElement("div");
      box.id = "gtp-frame-errors";
      box.className = "cw-form-errors";
      box.setAttribute("role", "alert");
      document.body.insertBefore(box, document.body.firstChild);
    }
    return box;
  }
  function showError(text) {
    var box = errorBox();
    box.textContent = text || "";
    box.hidden = !text;
  }

  // Images that failed to load block submission everywhere (not only in image tools).
  document.addEventListener("error", function (ev) {
    var t = ev.target;
    if (t && t.tagName === "IMG" && !t.hasAttribute("data-gtp-prefetch")) {
      failedImages.push(t.getAttribute("src") || "");
      tell({ gtflow: "image-error" });
    }
  }, true);

  // The crowd-form validated (template onsubmit handlers included) and collected the answer.
  document.addEventListener("crowd-form-submit", function (ev) {
    ev.preventDefault();
    if (failedImages.length) {
      showError("An image of this task failed to load, so it cannot be submitted. Skip it or reload.");
      tell({ gtflow: "refused", error: "an image failed to load" });
      return;
    }
    showError("");
    tell({ gtflow: "answer", answer: ev.detail.answer });
  });

  function submitTask() {
    var form = document.querySelector("crowd-form") || document.querySelector("crowd-entity-annotation");
    if (!form || typeof form.submitTask !== "function") {
      showError("This task has no crowd-form to submit.");
      tell({ gtflow: "refused", error: "this task has no crowd-form to submit" });
      return;
    }
    if (form.submitTask() === false) tell({ gtflow: "refused", error: "the form is not complete" });
  }

  window.addEventListener("message", function (ev) {
    if (ev.source !== window.parent || !ev.data || typeof ev.data !== "object") return;
    var d = ev.data;
    if (d.gtflow === "submit") submitTask();
    else if (d.gtflow === "key" && typeof d.key === "string" && d.key.length <= 12) {
      // a tool key pressed on the portal's bar: hand it to the elements as if typed here
      var target = document.activeElement && document.activeElement !== document.body ? document.activeElement : document;
      target.dispatchEvent(new KeyboardEvent("keydown", { key: d.key, ctrlKey: !!d.ctrlKey, metaKey: !!d.metaKey,
        shiftKey: !!d.shiftKey, bubbles: true, cancelable: true }));
    }
    else if (d.gtflow === "server-refused") showError("Not submitted: " + d.error);
    else if (d.gtflow === "prefetch" && Array.isArray(d.urls)) {
      // Warm this frame's cache partition with the next task's images.
      d.urls.slice(0, 16).forEach(function (u) {
        if (typeof u !== "string" || u.indexOf("/files/") !== 0) return;
        var im = new Image(); im.setAttribute("data-gtp-prefetch", ""); im.src = u;
      });
    }
  });

  function typing(ev) {
    var t = ev.target, tag = t && t.tagName ? t.tagName.toLowerCase() : "";
    return tag === "textarea" || tag === "select" || (t && t.isContentEditable) ||
      (tag === "input" && !/^(checkbox|radio|range|button|submit|reset)$/i.test(t.type || "text"));
  }
  // The portal's shortcuts work while the focus is in the task.
  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") { ev.preventDefault(); submitTask(); return; }
    if (ev.altKey && !ev.ctrlKey && !ev.metaKey && (ev.key === "n" || ev.key === "N" || ev.code === "KeyN")) {
      ev.preventDefault(); tell({ gtflow: "key", key: "skip" }); return;
    }
    if (ev.key === "?" && !typing(ev)) { ev.preventDefault(); tell({ gtflow: "key", key: "help" }); }
  });

  // Unsaved work: the portal asks before skipping or leaving.
  function changed() { if (!dirty) { dirty = true; tell({ gtflow: "dirty" }); } }
  document.addEventListener("change", changed, true);
  document.addEventListener("input", changed, true);

  window.addEventListener("load", function () { tell({ gtflow: "ready" }); });
})();
