/* gtflow local implementation of the Crowd HTML Elements (SageMaker Ground Truth / A2I).
 *
 * Plain JavaScript custom elements, no network, no build step. Each element submits exactly
 * the JSON the AWS element submits (gtflow CONTRACTS.md section 6). A crowd-form collects one
 * object keyed by each widget's `name` and dispatches `crowd-form-submit` on document with
 * `detail.answer`; the gtflow portal page posts it. Elements render in the light DOM.
 */
(function () {
  "use strict";
  if (window.__gtflowCrowdElements) return;  // loaded twice (template tag + page shell)
  window.__gtflowCrowdElements = true;

  var SCRIPT_SRC = (document.currentScript && document.currentScript.src) || "";
  var PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46a0a0", "#d6338a",
    "#8a9a00", "#b08000", "#006d77", "#9a6324", "#800000", "#2f4f4f", "#000075"];

  // ---------------------------------------------------------------------------------------
  // Attribute values: JSON, or the JS-like literals the AWS docs use ({ text: 'None' }).
  function parseLoose(text) {
    if (text === null || text === undefined) return undefined;
    var s = String(text).trim();
    if (!s) return undefined;
    try { return JSON.parse(s); } catch (e) { /* fall through to the lenient reader */ }
    var i = 0;
    function fail(what) { throw new SyntaxError("cannot read attribute value: " + what + " at " + i); }
    function ws() {
      for (;;) {
        if (i < s.length && /\s/.test(s[i])) { i++; continue; }
        if (s.substr(i, 2) === "//") { while (i < s.length && s[i] !== "\n") i++; continue; }
        if (s.substr(i, 2) === "/*") { var j = s.indexOf("*/", i + 2); i = j < 0 ? s.length : j + 2; continue; }
        return;
      }
    }
    function str() {
      var q = s[i++], out = "";
      while (i < s.length && s[i] !== q) {
        var c = s[i++];
        if (c === "\\") {
          var e = s[i++];
          var map = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v", "0": "\0" };
          if (e === "u") { out += String.fromCharCode(parseInt(s.substr(i, 4), 16)); i += 4; }
          else if (e === "x") { out += String.fromCharCode(parseInt(s.substr(i, 2), 16)); i += 2; }
          else out += (e in map) ? map[e] : e;
        } else out += c;
      }
      if (s[i] !== q) fail("unterminated string");
      i++;
      return out;
    }
    function ident() { var m = /^[A-Za-z_$][\w$-]*/.exec(s.slice(i)); if (!m) return ""; i += m[0].length; return m[0]; }
    function num() {
      var m = /^[-+]?(0x[0-9a-f]+|(\d+\.?\d*|\.\d+)(e[-+]?\d+)?|Infinity)/i.exec(s.slice(i));
      if (!m) fail("bad number"); i += m[0].length; return Number(m[0]);
    }
    function arr() {
      i++; var out = [];
      for (;;) {
        ws(); if (s[i] === "]") { i++; return out; }
        out.push(val()); ws();
        if (s[i] === ",") { i++; continue; }
        if (s[i] === "]") { i++; return out; }
        fail("expected , or ]");
      }
    }
    function obj() {
      i++; var out = {};
      for (;;) {
        ws(); if (s[i] === "}") { i++; return out; }
        var k = (s[i] === '"' || s[i] === "'") ? str() : (/[0-9]/.test(s[i]) ? String(num()) : ident());
        if (!k && k !== "0") fail("expected a key");
        ws(); if (s[i] !== ":") fail("expected :"); i++;
        out[k] = val(); ws();
        if (s[i] === ",") { i++; continue; }
        if (s[i] === "}") { i++; return out; }
        fail("expected , or }");
      }
    }
    function val() {
      ws(); var c = s[i];
      if (c === "{") return obj();
      if (c === "[") return arr();
      if (c === '"' || c === "'" || c === "`") return str();
      if (c !== undefined && /[-+0-9.]/.test(c)) return num();
      var id = ident();
      if (id === "true") return true;
      if (id === "false") return false;
      if (id === "null") return null;
      if (id === "undefined") return undefined;
      if (id === "Infinity") return Infinity;
      fail("unexpected " + (id || c));
    }
    var v = val(); ws();
    if (i < s.length) fail("trailing text");
    return v;
  }

  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] === undefined || attrs[k] === null || attrs[k] === false) continue;
      if (k === "text") el.textContent = attrs[k];
      else if (k === "class") el.className = attrs[k];
      else if (k.slice(0, 2) === "on" && typeof attrs[k] === "function") el.addEventListener(k.slice(2), attrs[k]);
      else el.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return el;
  }

  function isTyping(ev) {
    var t = ev.target;
    if (!t || !t.tagName) return false;
    var tag = t.tagName.toLowerCase();
    return tag === "textarea" || tag === "select" || t.isContentEditable ||
      (tag === "input" && !/^(checkbox|radio|range|button|submit|reset|color)$/i.test(t.type || "text"));
  }

  function roundInt(v) { return Math.round(Number(v)); }

  // ---------------------------------------------------------------------------------------
  // Base class: set up once, when connected, with the children the author wrote.
  class CrowdElement extends HTMLElement {
    connectedCallback() {
      if (this._crowdReady) return;
      this._crowdReady = true;
      this.classList.add("crowd-el");
      try { this.setup(); } catch (err) {
        this.insertBefore(notice("<" + this.localName + "> could not be set up: " + err.message), this.firstChild);
        if (window.console) console.error(err);
      }
    }
    setup() {}
    attr(name, dflt) { var v = this.getAttribute(name); return v === null ? dflt : v; }
    flag(name) { return this.hasAttribute(name) && this.getAttribute(name) !== "false"; }
    json(name, dflt) {
      var v = this.getAttribute(name);
      if (v === null || v.trim() === "") return dflt;
      var p;
      try { p = parseLoose(v); } catch (e) {
        throw new Error("attribute " + name + " is not valid JSON (" + e.message + ")");
      }
      if (p === undefined) return dflt;
      // GT's elements reflect list attributes back as JSON; template scripts parse them
      // (the AWS keypoint validation script splits labels on '","').
      if ((name === "labels" || name === "categories") && Array.isArray(p)) {
        var norm = JSON.stringify(p);
        if (norm !== v) this.setAttribute(name, norm);
      }
      return p;
    }
    // Regions the author wrote as children (e.g. <short-instructions>), taken out of the flow.
    takeRegion(tag) {
      for (var c = this.firstElementChild; c; c = c.nextElementSibling) if (c.localName === tag) { c.remove(); return c; }
      var deep = this.querySelector(tag);
      if (deep) { deep.remove(); return deep; }
      return null;
    }
  }

  function notice(text) {
    return h("div", { class: "cw-notice", role: "note", text: "gtflow portal: " + text });
  }

  // Side panel with short/full instructions (regions of most task widgets).
  function instructionsPanel(host) {
    var panel = h("div", { class: "cw-instructions" });
    var short = host.takeRegion("short-instructions");
    var full = host.takeRegion("full-instructions");
    if (short) {
      var sh = h("div", { class: "cw-short" }, [h("h3", { text: short.getAttribute("header") || "Instructions" })]);
      while (short.firstChild) sh.appendChild(short.firstChild);
      panel.appendChild(sh);
    }
    if (full) {
      var det = h("details", { class: "cw-full" }, [h("summary", { text: full.getAttribute("header") || "View full instructions" })]);
      var body = h("div", { class: "cw-full-body" });
      while (full.firstChild) body.appendChild(full.firstChild);
      det.appendChild(body);
      panel.appendChild(det);
    }
    return panel.childNodes.length ? panel : null;
  }

  // ---------------------------------------------------------------------------------------
  // crowd-form: collects the answer and hands it to the page.
  var UNSUPPORTED = ["crowd-textract-analyze-document", "crowd-rekognition-detect-moderation-labels"];

  function collect(root) {
    var out = {};
    var nodes = root.querySelectorAll("*");
    for (var n = 0; n < nodes.length; n++) {
      var el = nodes[n];
      if (typeof el.crowdValue === "function") {
        var name = el.getAttribute("name");
        if (!name) continue;
        var v = el.crowdValue();
        if (v === undefined) continue;
        if (el.crowdMerge) {
          var prev = out[name];
          out[name] = Object.assign((prev && typeof prev === "object" && !Array.isArray(prev)) ? prev : {}, v);
        } else out[name] = v;
        continue;
      }
      var tag = el.localName;
      if ((tag === "input" || tag === "select" || tag === "textarea") && el.name && !el.disabled && !el.closest("[data-cw-internal]")) {
        var type = (el.type || "").toLowerCase();
        if (tag === "input" && /^(submit|button|reset|image|file)$/.test(type)) continue;
        if ((type === "checkbox" || type === "radio") && !el.checked) continue;
        if (tag === "select" && el.multiple) {
          var sel = Array.prototype.filter.call(el.options, function (o) { return o.selected; });
          if (sel.length) out[el.name] = sel[sel.length - 1].value;
          continue;
        }
        out[el.name] = String(el.value);
      }
    }
    return out;
  }

  class CrowdForm extends CrowdElement {
    // GT's crowd-form wraps a native form and exposes it; templates append fields to it.
    get form() { return this; }
    setup() {
      var self = this;
      if (this.hasAttribute("data-cw-shim")) return;  // the inner form of a self-submitting element
      var hasSubmit = this.querySelector('crowd-button[form-action="submit"], button[type="submit"], input[type="submit"]');
      if (!hasSubmit) {
        var b = document.createElement("crowd-button");
        b.setAttribute("form-action", "submit");
        b.setAttribute("variant", "primary");
        b.textContent = "Submit";
        b.classList.add("cw-auto-submit");
        this.appendChild(b);
      }
      this.addEventListener("click", function (ev) {
        var t = ev.target.closest && ev.target.closest('button[type="submit"], input[type="submit"]');
        if (t && self.contains(t) && !t.closest("[data-cw-internal]")) { ev.preventDefault(); self.submitTask(); }
      });
      this.addEventListener("submit", function (ev) {
        // an inner native <form> submitting: route it through the crowd-form
        if (ev.target !== self) { ev.preventDefault(); self.submitTask(); }
      }, true);
      this.errorBox = h("div", { class: "cw-form-errors", role: "alert", hidden: true });
      this.insertBefore(this.errorBox, this.firstChild);
    }
    // What would be submitted now (no events, no validation).
    crowdAnswer() { return collect(this); }
    validateAll() {
      var errors = [];
      var nodes = this.querySelectorAll("*");
      for (var n = 0; n < nodes.length; n++) {
        var el = nodes[n];
        if (UNSUPPORTED.indexOf(el.localName) >= 0) errors.push("<" + el.localName + "> is not implemented by the local portal; this task cannot be answered here.");
        if (typeof el.crowdValidate === "function") {
          var msg = el.crowdValidate();
          if (msg) errors.push(msg);
        } else if ((el.localName === "input" || el.localName === "select" || el.localName === "textarea") &&
                   el.name && !el.closest("[data-cw-internal]") && el.checkValidity && !el.checkValidity()) {
          errors.push((el.name || "a field") + ": " + el.validationMessage);
        }
      }
      return errors;
    }
    showErrors(errors) {
      this.errorBox.textContent = "";
      errors.forEach(function (e) { this.errorBox.appendChild(h("div", { text: e })); }, this);
      this.errorBox.hidden = !errors.length;
      if (errors.length) this.errorBox.scrollIntoView({ block: "nearest" });
    }
    // Submit as the AWS crowd-form does: a cancelable `submit` event first (templates use
    // onsubmit to validate), then the answer object.
    submitTask() {
      var ev = new Event("submit", { cancelable: true });
      if (!this.dispatchEvent(ev)) return false;
      var errors = this.validateAll();
      this.showErrors(errors);
      if (errors.length) return false;
      var answer = collect(this);
      var handled = !document.dispatchEvent(new CustomEvent("crowd-form-submit", { cancelable: true, detail: { answer: answer, form: this } }));
      if (!handled) {
        var pre = this.querySelector(".cw-preview-output") || h("pre", { class: "cw-preview-output" });
        pre.textContent = JSON.stringify([answer], null, 2);
        this.appendChild(pre);
      }
      return true;
    }
  }

  // ---------------------------------------------------------------------------------------
  class CrowdButton extends CrowdElement {
    setup() {
      var self = this;
      this.setAttribute("role", "button");
      if (!this.hasAttribute("tabindex")) this.tabIndex = 0;
      this.classList.add("cw-button", "cw-" + this.attr("variant", "normal"));
      var icon = this.getAttribute("icon");
      if (icon) this.insertBefore(h("span", { class: "cw-icon", text: icon }), this.firstChild);
      function go(ev) {
        if (self.flag("disabled") || self.flag("loading")) return;
        if (self.getAttribute("form-action") === "submit") {
          ev.preventDefault();
          var form = self.closest("crowd-form");
          if (form && form.submitTask) form.submitTask();
        }
      }
      this.addEventListener("click", go);
      this.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); self.click(); } });
    }
  }

  class CrowdIconButton extends CrowdButton {}
  class CrowdFab extends CrowdElement {
    setup() {
      this.setAttribute("role", "button"); this.tabIndex = 0;
      this.classList.add("cw-button", "cw-fab");
      this.textContent = this.attr("label", this.attr("icon", "+"));
    }
  }
  class CrowdBadge extends CrowdElement {
    setup() { this.classList.add("cw-badge"); this.textContent = this.attr("label", this.attr("icon", "")); }
  }

  class CrowdCard extends CrowdElement {
    setup() {
      this.classList.add("cw-card");
      var kids = Array.prototype.slice.call(this.childNodes);
      var body = h("div", { class: "cw-card-body" });
      kids.forEach(function (k) { body.appendChild(k); });
      if (this.getAttribute("image")) this.appendChild(h("img", { class: "cw-card-image", src: this.getAttribute("image"), alt: "" }));
      if (this.getAttribute("heading")) this.appendChild(h("div", { class: "cw-card-heading", text: this.getAttribute("heading") }));
      this.appendChild(body);
    }
  }

  class CrowdAlert extends CrowdElement {
    setup() {
      var self = this;
      this.setAttribute("role", "alert");
      this.classList.add("cw-alert", "cw-alert-" + this.attr("type", "info"));
      if (this.flag("dismissible")) {
        this.appendChild(h("button", { type: "button", class: "cw-alert-close", "aria-label": "Dismiss", "data-cw-internal": "", text: "×",
          onclick: function () { self.hidden = true; } }));
      }
    }
  }

  class CrowdToast extends CrowdElement {
    setup() { this.classList.add("cw-alert", "cw-alert-info"); if (this.getAttribute("text")) this.textContent = this.getAttribute("text"); }
  }

  class CrowdInstructions extends CrowdElement {
    setup() {
      var self = this;
      var parts = [["short-summary", "Summary"], ["detailed-instructions", "Detailed instructions"],
        ["positive-example", "Good example"], ["negative-example", "Bad example"]];
      var dialog = h("div", { class: "cw-instructions-dialog", hidden: true, role: "dialog", "data-cw-internal": "" });
      parts.forEach(function (p) {
        var r = self.takeRegion(p[0]);
        if (!r) return;
        var sec = h("section", { class: "cw-instr-" + p[0] }, [h("h3", { text: p[1] })]);
        while (r.firstChild) sec.appendChild(r.firstChild);
        dialog.appendChild(sec);
      });
      var rest = Array.prototype.slice.call(this.childNodes);
      if (rest.some(function (n) { return n.nodeType === 1 || (n.textContent || "").trim(); })) {
        var extra = h("section", {}); rest.forEach(function (n) { extra.appendChild(n); }); dialog.insertBefore(extra, dialog.firstChild);
      }
      dialog.appendChild(h("button", { type: "button", class: "cw-btn", text: "Close", onclick: function () { dialog.hidden = true; } }));
      var text = this.attr("link-text", "Click for instructions");
      var opener = this.attr("link-type", "link") === "button"
        ? h("button", { type: "button", class: "cw-btn", text: text, "data-cw-internal": "" })
        : h("a", { href: "#", class: "cw-link", text: text });
      opener.addEventListener("click", function (ev) { ev.preventDefault(); dialog.hidden = !dialog.hidden; });
      this.appendChild(opener);
      this.appendChild(dialog);
    }
  }

  class CrowdModal extends CrowdElement {
    setup() {
      var dialog = h("div", { class: "cw-instructions-dialog", hidden: true, role: "dialog" });
      var kids = Array.prototype.slice.call(this.childNodes);
      if (this.getAttribute("header")) dialog.appendChild(h("h3", { text: this.getAttribute("header") }));
      kids.forEach(function (k) { dialog.appendChild(k); });
      dialog.appendChild(h("button", { type: "button", class: "cw-btn", text: "Close", "data-cw-internal": "", onclick: function () { dialog.hidden = true; } }));
      var opener = h("a", { href: "#", class: "cw-link", text: this.attr("link-text", "Open") });
      opener.addEventListener("click", function (ev) { ev.preventDefault(); dialog.hidden = !dialog.hidden; });
      this.appendChild(opener); this.appendChild(dialog);
    }
  }

  class CrowdTabs extends CrowdElement {
    setup() {
      var tabs = Array.prototype.filter.call(this.children, function (c) { return c.localName === "crowd-tab"; });
      var bar = h("div", { class: "cw-tabbar", role: "tablist" });
      tabs.forEach(function (t, i) {
        var b = h("button", { type: "button", class: "cw-tab-btn", role: "tab", "data-cw-internal": "", text: t.getAttribute("header") || ("Tab " + (i + 1)) });
        b.addEventListener("click", function () { tabs.forEach(function (o, j) { o.hidden = j !== i; bar.children[j].classList.toggle("cw-on", j === i); }); });
        bar.appendChild(b);
        t.hidden = i !== 0;
        if (i === 0) b.classList.add("cw-on");
      });
      this.insertBefore(bar, this.firstChild);
    }
  }
  class CrowdTab extends CrowdElement {}

  // ---------------------------------------------------------------------------------------
  // Checkbox, toggle, radio: {"<name>": {"<value>": bool}}; same-name boxes merge.
  class CrowdCheckable extends CrowdElement {
    kind() { return "checkbox"; }
    setup() {
      var self = this;
      var kids = Array.prototype.slice.call(this.childNodes);
      this.box = h("input", { type: this.kind() === "radio" ? "radio" : "checkbox", "data-cw-internal": "" });
      this.box.checked = this.flag("checked");
      this.box.disabled = this.flag("disabled");
      var text = h("span", { class: "cw-check-text" });
      kids.forEach(function (k) { text.appendChild(k); });
      var label = h("label", { class: "cw-check cw-" + this.kind() }, [this.box, this.kind() === "toggle" ? h("span", { class: "cw-switch" }) : null, text]);
      this.appendChild(label);
      this.box.addEventListener("change", function () {
        if (self.kind() === "radio" && self.box.checked) self.uncheckOthers();
        self.toggleAttribute("checked", self.box.checked);
        self.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }
    get checked() { return this.box ? this.box.checked : this.flag("checked"); }
    set checked(v) { if (this.box) this.box.checked = !!v; this.toggleAttribute("checked", !!v); if (v && this.kind() === "radio") this.uncheckOthers(); }
    get value() { return this.attr("value", "on"); }
    crowdValue() { var o = {}; o[this.value] = !!this.checked; return o; }
    crowdValidate() {
      if (this.flag("required") && !this.checked && this.kind() !== "radio") return (this.getAttribute("name") || "a box") + " must be checked";
      return null;
    }
  }
  CrowdCheckable.prototype.crowdMerge = true;
  class CrowdCheckbox extends CrowdCheckable { kind() { return "checkbox"; } }
  class CrowdToggleButton extends CrowdCheckable { kind() { return "toggle"; } }
  class CrowdRadioButton extends CrowdCheckable {
    kind() { return "radio"; }
    uncheckOthers() {
      var group = this.closest("crowd-radio-group");
      var self = this;
      var peers = group ? group.querySelectorAll("crowd-radio-button")
        : document.querySelectorAll('crowd-radio-button[name="' + (window.CSS && CSS.escape ? CSS.escape(this.getAttribute("name") || "") : this.getAttribute("name")) + '"]');
      Array.prototype.forEach.call(peers, function (p) { if (p !== self && p.box) { p.box.checked = false; p.removeAttribute("checked"); } });
    }
  }
  class CrowdRadioGroup extends CrowdElement {
    setup() { this.setAttribute("role", "radiogroup"); }
  }

  // ---------------------------------------------------------------------------------------
  class CrowdInput extends CrowdElement {
    multiline() { return false; }
    setup() {
      var self = this;
      var ml = this.multiline();
      var ctl = ml ? h("textarea", { rows: this.attr("rows", "3"), "data-cw-internal": "" })
        : h("input", { type: this.attr("type", "text"), "data-cw-internal": "" });
      ctl.placeholder = this.attr("placeholder", "");
      ctl.value = this.attr("value", "");
      ctl.disabled = this.flag("disabled");
      ctl.required = this.flag("required");
      if (this.getAttribute("max-length")) ctl.maxLength = Number(this.getAttribute("max-length"));
      if (this.getAttribute("min-length")) ctl.minLength = Number(this.getAttribute("min-length"));
      if (!ml && this.getAttribute("min")) ctl.min = this.getAttribute("min");
      if (!ml && this.getAttribute("max")) ctl.max = this.getAttribute("max");
      if (!ml && this.getAttribute("step")) ctl.step = this.getAttribute("step");
      var kids = Array.prototype.slice.call(this.childNodes);
      var label = h("span", { class: "cw-field-label", text: this.attr("label", "") });
      this.ctl = ctl;
      this.err = h("span", { class: "cw-field-error", hidden: true, text: this.attr("error-message", "Invalid value") });
      var counter = null;
      if (this.flag("char-counter")) {
        counter = h("span", { class: "cw-counter" });
        var upd = function () { counter.textContent = ctl.value.length + (ctl.maxLength > 0 ? " / " + ctl.maxLength : ""); };
        ctl.addEventListener("input", upd); upd();
      }
      var pattern = this.getAttribute("allowed-pattern");
      if (pattern) {
        var re = new RegExp(pattern);
        ctl.addEventListener("beforeinput", function (ev) {
          if (ev.data && Array.prototype.some.call(ev.data, function (ch) { return !re.test(ch); })) ev.preventDefault();
        });
      }
      if (this.flag("auto-validate")) ctl.addEventListener("input", function () { self.err.hidden = ctl.checkValidity(); });
      if (ml && this.getAttribute("max-rows")) {
        var maxRows = Number(this.getAttribute("max-rows"));
        ctl.addEventListener("input", function () { ctl.rows = Math.min(maxRows, Math.max(Number(self.attr("rows", "3")), ctl.value.split("\n").length)); });
      }
      var wrap = h("label", { class: "cw-field" }, [label, ctl, this.err, counter]);
      kids.forEach(function (k) { wrap.appendChild(k); });
      this.appendChild(wrap);
      if (this.flag("auto-focus") || this.flag("autofocus")) setTimeout(function () { ctl.focus(); }, 0);
    }
    get value() { return this.ctl ? this.ctl.value : this.attr("value", ""); }
    set value(v) { if (this.ctl) this.ctl.value = v; else this.setAttribute("value", v); }
    crowdValue() { var v = this.value; return v === "" ? undefined : v; }
    crowdValidate() {
      if (!this.ctl) return null;
      if (!this.ctl.checkValidity()) { this.err.hidden = false; return (this.attr("label", "") || this.getAttribute("name") || "a field") + ": " + (this.getAttribute("error-message") || this.ctl.validationMessage); }
      this.err.hidden = true;
      return null;
    }
  }
  class CrowdTextArea extends CrowdInput { multiline() { return true; } }

  class CrowdSlider extends CrowdElement {
    setup() {
      var self = this;
      var min = Number(this.attr("min", "0")), max = Number(this.attr("max", "100"));
      this.range = h("input", { type: "range", min: min, max: max, step: this.attr("step", "1"), "data-cw-internal": "" });
      this.range.value = this.attr("value", String(min));
      this.range.disabled = this.flag("disabled");
      var pin = h("output", { class: "cw-slider-pin", text: this.range.value });
      var num = this.flag("editable") ? h("input", { type: "number", min: min, max: max, step: this.attr("step", "1"), class: "cw-slider-edit", "data-cw-internal": "" }) : null;
      if (num) { num.value = this.range.value; num.addEventListener("input", function () { self.range.value = num.value; pin.textContent = self.range.value; }); }
      this.range.addEventListener("input", function () { pin.textContent = self.range.value; if (num) num.value = self.range.value; self.touched = true; });
      this.appendChild(h("div", { class: "cw-slider" }, [h("span", { class: "cw-muted", text: String(min) }), this.range, h("span", { class: "cw-muted", text: String(max) }), this.flag("pin") || !num ? pin : null, num]));
    }
    get value() { return this.range ? Number(this.range.value) : Number(this.attr("value", this.attr("min", "0"))); }
    set value(v) { if (this.range) this.range.value = v; }
    crowdValue() { return this.value; }
    crowdValidate() { return null; }
  }

  // ---------------------------------------------------------------------------------------
  // Classifiers: {"<name>": {"label": c}} and {"<name>": {"labels": [...]}}.
  function categoriesOf(el) {
    var cats = el.json("categories", []);
    if (!Array.isArray(cats)) throw new Error("categories must be a list");
    return cats.map(function (c) { return (c && typeof c === "object") ? String(c.label || c.text || c.name) : String(c); });
  }
  function exclusionOf(el) {
    var ex = el.json("exclusion-category", null);
    if (ex === null || ex === undefined) return null;
    return typeof ex === "object" ? String(ex.text || ex.label || "") : String(ex);
  }

  class ClassifierBase extends CrowdElement {
    multi() { return false; }
    image() { return false; }
    setup() {
      var self = this;
      this.categories = categoriesOf(this);
      this.exclusion = this.multi() ? exclusionOf(this) : null;
      this.selected = [];
      var instr = instructionsPanel(this);
      var target = this.takeRegion("classification-target");
      var comment = this.takeRegion("worker-comment");
      var rest = Array.prototype.slice.call(this.childNodes);
      var main = h("div", { class: "cw-main" });
      if (this.getAttribute("header")) main.appendChild(h("div", { class: "cw-header", text: this.getAttribute("header") }));
      if (this.image()) {
        this.stage = h("div", { class: "cw-classify-image" });
        this.img = h("img", { src: this.attr("src", ""), alt: "item to classify", draggable: "false" });
        this.stage.appendChild(this.img);
        main.appendChild(this.stage);
        this.drawOverlay();
      }
      if (target) { target.classList.add("cw-target"); main.appendChild(target); }
      rest.forEach(function (n) { main.appendChild(n); });
      var side = h("div", { class: "cw-side" });
      var list = h("div", { class: "cw-categories", role: this.multi() ? "group" : "radiogroup" });
      var all = this.categories.slice();
      if (this.exclusion) all.push(this.exclusion);
      this.buttons = all.map(function (c, i) {
        var b = h("button", { type: "button", class: "cw-category" + (c === self.exclusion ? " cw-exclusion" : ""), "data-cw-internal": "",
          "aria-pressed": "false", "data-category": c }, [h("kbd", { text: i < 9 ? String(i + 1) : "" }), h("span", { text: c })]);
        b.addEventListener("click", function () { self.pick(c); });
        list.appendChild(b);
        return b;
      });
      side.appendChild(list);
      if (comment) {
        this.commentBox = h("textarea", { class: "cw-comment", rows: "3", placeholder: comment.getAttribute("placeholder") || "", "data-cw-internal": "" });
        var det = h("details", { class: "cw-comment-wrap" }, [h("summary", { text: comment.getAttribute("link-text") || "Add a comment" }),
          h("div", { class: "cw-field-label", text: comment.getAttribute("header") || "" }), this.commentBox]);
        side.appendChild(det);
      }
      if (instr) side.appendChild(instr);
      this.err = h("div", { class: "cw-field-error", hidden: true, text: this.multi() ? "" : "Choose a category" });
      side.appendChild(this.err);
      this.appendChild(h("div", { class: "cw-tool" + (this.image() ? " cw-tool-image" : "") }, [main, side]));
      registerKeys(this);
      // GT renders classifiers in a shadow root and templates reach into it: the AWS two-tier
      // template inserts its follow-up questions after '.annotation-area .category-picker-wrapper'.
      if (!this.shadowRoot && this.attachShadow) {
        var root = this.attachShadow({ mode: "open" });
        var area = h("div", { class: "annotation-area" }, [h("div", { class: "category-picker-wrapper" }, [document.createElement("slot")])]);
        var css = document.createElement("style");
        css.textContent = ":host{display:block}.annotation-area{display:block}";
        root.appendChild(css);
        root.appendChild(area);
      }
    }
    drawOverlay() {
      var ov = this.json("overlay", null);
      if (!ov || !this.stage) return;
      var self = this;
      if (ov.boundingBox) {
        var labels = ov.boundingBox.labels || [];
        var boxes = ov.boundingBox.value || [];
        var layer = h("div", { class: "cw-overlay" });
        this.stage.appendChild(layer);
        var place = function () {
          var W = self.img.naturalWidth, H = self.img.naturalHeight;
          if (!W || !H) return;
          layer.textContent = "";
          boxes.forEach(function (b) {
            var color = PALETTE[Math.max(0, labels.indexOf(b.label)) % PALETTE.length];
            var d = h("div", { class: "cw-overlay-box" }, [h("span", { class: "cw-box-label", text: b.label || "" })]);
            d.style.cssText = "left:" + (b.left / W * 100) + "%;top:" + (b.top / H * 100) + "%;width:" + (b.width / W * 100) + "%;height:" + (b.height / H * 100) + "%;border-color:" + color;
            d.firstChild.style.background = color;
            layer.appendChild(d);
          });
        };
        if (this.img.complete) place(); else this.img.addEventListener("load", place);
      } else {
        this.stage.appendChild(notice("this overlay type is shown as the plain image locally"));
      }
    }
    pick(c) {
      if (!this.multi()) this.selected = [c];
      else if (c === this.exclusion) this.selected = this.selected.indexOf(c) >= 0 ? [] : [c];
      else {
        var s = this.selected.filter(function (x) { return x !== this.exclusion; }, this);
        var i = s.indexOf(c);
        if (i >= 0) s.splice(i, 1); else s.push(c);
        this.selected = s;
      }
      var sel = this.selected;
      this.buttons.forEach(function (b) { var on = sel.indexOf(b.getAttribute("data-category")) >= 0; b.classList.toggle("cw-on", on); b.setAttribute("aria-pressed", on ? "true" : "false"); });
      this.err.hidden = true;
      this.dispatchEvent(new Event("change", { bubbles: true }));
    }
    pickIndex(i) { var all = this.categories.concat(this.exclusion ? [this.exclusion] : []); if (i < all.length) this.pick(all[i]); }
    handleKey(ev) {
      if (/^[1-9]$/.test(ev.key)) { this.pickIndex(Number(ev.key) - 1); return true; }
      return false;
    }
    get value() {
      if (this.multi()) return this.crowdValue();
      return this.selected.length ? this.selected[0] : "";
    }
    crowdValue() {
      if (this.multi()) {
        var order = this.categories.concat(this.exclusion ? [this.exclusion] : []);
        var sel = this.selected;
        return { labels: order.filter(function (c) { return sel.indexOf(c) >= 0; }) };
      }
      if (!this.selected.length) return undefined;
      var out = { label: this.selected[0] };
      if (this.commentBox && this.commentBox.value.trim() !== "") out.workerComment = this.commentBox.value;
      return out;
    }
    crowdValidate() {
      if (!this.multi() && !this.selected.length) { this.err.hidden = false; return (this.getAttribute("header") || this.getAttribute("name") || "classifier") + ": choose a category"; }
      return null;
    }
  }
  class CrowdClassifier extends ClassifierBase {}
  class CrowdClassifierMulti extends ClassifierBase { multi() { return true; } }
  class CrowdImageClassifier extends ClassifierBase { image() { return true; } }
  class CrowdImageClassifierMulti extends ClassifierBase { multi() { return true; } image() { return true; } }

  // ---------------------------------------------------------------------------------------
  // Keyboard routing: keys go to the widget the worker touched last (else the first one).
  var keyTargets = [];
  var activeTarget = null;
  function registerKeys(el) {
    keyTargets.push(el);
    el.addEventListener("pointerdown", function () { activeTarget = el; });
    el.addEventListener("focusin", function () { activeTarget = el; });
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.defaultPrevented || isTyping(ev)) return;
    var t = (activeTarget && activeTarget.isConnected) ? activeTarget : keyTargets.filter(function (k) { return k.isConnected; })[0];
    // Ctrl+Z undo, Ctrl+Shift+Z (or Ctrl+Y) redo, in the tool last used
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && t && t.undo) {
      var k = (ev.key || "").toLowerCase();
      if (k === "z" && !ev.shiftKey) { ev.preventDefault(); t.undo(); return; }
      if ((k === "z" && ev.shiftKey) || k === "y") { ev.preventDefault(); t.redo(); return; }
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && t.handleKey && t.handleKey(ev)) ev.preventDefault();
  });

  // Two segments cross properly (shared end points and touching do not count).
  function segmentsCross(a, b, c, d) {
    function orient(p, q, r) { return (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x); }
    var o1 = orient(a, b, c), o2 = orient(a, b, d), o3 = orient(c, d, a), o4 = orient(c, d, b);
    return o1 * o2 < 0 && o3 * o4 < 0;
  }
  // A closed polygon whose non-adjacent edges cross (the AWS polygon template promises to refuse it).
  function selfIntersects(vs) {
    var n = vs.length;
    for (var i = 0; i < n; i++) {
      for (var j = i + 1; j < n; j++) {
        if (j === i + 1 || (i === 0 && j === n - 1)) continue;
        if (segmentsCross(vs[i], vs[(i + 1) % n], vs[j], vs[(j + 1) % n])) return true;
      }
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------
  // Image tools: a zoomable stage with the image and a layer of shapes, in image pixels.
  class ImageTool extends CrowdElement {
    toolName() { return "image"; }
    setup() {
      var self = this;
      var labels = this.json("labels", []);
      if (!Array.isArray(labels)) throw new Error("labels must be a list");
      this.labels = labels.map(String);
      if (!this.labels.length) this.labels = [""];
      this.current = this.labels[0];
      this.zoom = 1; this.fit = true;
      this.W = 0; this.H = 0;
      this.selected = -1;
      this.initial = this.json("initial-value", null);
      var instr = instructionsPanel(this);
      var rest = Array.prototype.slice.call(this.childNodes);
      var main = h("div", { class: "cw-main" });
      if (this.getAttribute("header")) main.appendChild(h("div", { class: "cw-header", text: this.getAttribute("header") }));
      this.wrap = h("div", { class: "cw-stage-wrap", tabindex: "0", "data-cw-internal": "" });
      this.stage = h("div", { class: "cw-stage" });
      this.img = h("img", { class: "cw-img", alt: "image to annotate", draggable: "false" });
      this.layer = this.makeLayer();
      this.stage.appendChild(this.img);
      this.stage.appendChild(this.layer);
      this.wrap.appendChild(this.stage);
      main.appendChild(this.wrap);
      rest.forEach(function (n) { main.appendChild(n); });
      var side = h("div", { class: "cw-side" });
      side.appendChild(h("div", { class: "cw-side-title", text: "Labels" }));
      var list = h("div", { class: "cw-labels", role: "radiogroup" });
      this.labelButtons = this.labels.map(function (l, i) {
        var b = h("button", { type: "button", class: "cw-label", "data-cw-internal": "", "data-label": l, "aria-pressed": "false" },
          [h("span", { class: "cw-swatch" }), h("kbd", { text: i < 9 ? String(i + 1) : "" }), h("span", { text: l || "(no label)" })]);
        b.firstChild.style.background = self.color(l);
        b.addEventListener("click", function () { self.pickLabel(l); });
        list.appendChild(b);
        return b;
      });
      side.appendChild(list);
      var tb = h("div", { class: "cw-toolbar" });
      [["−", "Zoom out (-)", function () { self.setZoom(self.zoom / 1.25); }],
       ["+", "Zoom in (+)", function () { self.setZoom(self.zoom * 1.25); }],
       ["Fit", "Fit to view (0)", function () { self.fitZoom(); }],
       ["Delete", "Delete the selected shape (Delete)", function () { self.deleteSelected(); }],
       ["Undo", "Undo (Ctrl+Z)", function () { self.undo(); }],
       ["Redo", "Redo (Ctrl+Shift+Z)", function () { self.redo(); }]].forEach(function (a) {
        tb.appendChild(h("button", { type: "button", class: "cw-btn", title: a[1], "data-cw-internal": "", text: a[0], onclick: a[2] }));
      });
      this.zoomLabel = h("span", { class: "cw-zoom", text: "100%" });
      tb.appendChild(this.zoomLabel);
      side.appendChild(tb);
      this.countLabel = h("div", { class: "cw-count" });
      side.appendChild(this.countLabel);
      this.warn = h("div", { class: "cw-field-error", role: "alert", hidden: true });
      side.appendChild(this.warn);
      side.appendChild(h("div", { class: "cw-hint", text: this.hint() }));
      if (instr) side.appendChild(instr);
      this.appendChild(h("div", { class: "cw-tool cw-tool-image" }, [main, side]));
      this.pickLabel(this.current);
      this.img.addEventListener("load", function () { self.onImage(); });
      this.img.addEventListener("error", function () { self.wrap.appendChild(notice("the image could not be loaded")); });
      this.img.src = this.attr("src", "");
      if (this.img.complete && this.img.naturalWidth) this.onImage();
      this.wrap.addEventListener("wheel", function (ev) {
        if (!ev.ctrlKey) return;
        ev.preventDefault();
        self.setZoom(self.zoom * (ev.deltaY < 0 ? 1.1 : 1 / 1.1));
      }, { passive: false });
      window.addEventListener("resize", function () { if (self.fit) self.fitZoom(); });
      this.bindPointer();
      registerKeys(this);
    }
    makeLayer() { return h("div", { class: "cw-layer" }); }
    hint() { return ""; }
    color(label) { var i = this.labels.indexOf(label); return PALETTE[(i < 0 ? 0 : i) % PALETTE.length]; }
    onImage() {
      if (this.W) return;
      this.W = this.img.naturalWidth; this.H = this.img.naturalHeight;
      this.loadInitial();
      this.past = []; this.future = []; this.saved = this.snapshot();
      this.fitZoom();
      this.ready = true;
      this.dispatchEvent(new Event("crowd-ready", { bubbles: true }));
    }
    fitZoom() {
      if (!this.W) return;
      var avail = Math.max(200, this.wrap.clientWidth - 4);
      var availH = Math.max(200, window.innerHeight - this.wrap.getBoundingClientRect().top - 24);
      this.setZoom(Math.min(avail / this.W, availH / this.H, 4));
      this.fit = true;
    }
    setZoom(z) {
      this.zoom = Math.max(0.05, Math.min(z, 16));
      this.fit = false;
      this.stage.style.width = (this.W * this.zoom) + "px";
      this.stage.style.height = (this.H * this.zoom) + "px";
      this.zoomLabel.textContent = Math.round(this.zoom * 100) + "%";
      this.render();
    }
    pickLabel(l) {
      this.current = l;
      var self = this;
      this.labelButtons.forEach(function (b) { var on = b.getAttribute("data-label") === l; b.classList.toggle("cw-on", on); b.setAttribute("aria-pressed", on ? "true" : "false"); });
      // Relabel only a shape the worker clicked (not one just moved or drawn).
      if (this.selected >= 0 && this.clickSelected && this.relabel(this.selected, l)) { this.commit(); this.render(); }
      void self;
    }
    // client (screen) coordinates -> image pixels, clamped to the image
    toImage(ev) {
      var r = this.stage.getBoundingClientRect();
      var x = (ev.clientX - r.left) / r.width * this.W, y = (ev.clientY - r.top) / r.height * this.H;
      return { x: Math.max(0, Math.min(this.W, x)), y: Math.max(0, Math.min(this.H, y)) };
    }
    handleKey(ev) {
      if (/^[1-9]$/.test(ev.key)) { var l = this.labels[Number(ev.key) - 1]; if (l !== undefined) this.pickLabel(l); return true; }
      if (ev.key === "Delete" || ev.key === "Backspace") { this.deleteSelected(); return true; }
      if (ev.key === "+" || ev.key === "=") { this.setZoom(this.zoom * 1.25); return true; }
      if (ev.key === "-" || ev.key === "_") { this.setZoom(this.zoom / 1.25); return true; }
      if (ev.key === "0") { this.fitZoom(); return true; }
      if (ev.key === "Escape") { this.cancel(); return true; }
      if (ev.key === "Enter") return this.enter();
      return false;
    }
    cancel() { this.selected = -1; this.render(); }
    enter() { return false; }
    deleteSelected() {
      if (this.selected < 0) return;
      this.shapes.splice(this.selected, 1);
      this.selected = -1;
      this.changed();
    }
    changed() { this.commit(); this.render(); this.dispatchEvent(new Event("change", { bubbles: true })); }
    // Undo history: one entry per finished edit (draw, move, resize, relabel, delete).
    snapshot() { return JSON.stringify(this.shapes || []); }
    commit() {
      if (!this.past) return;
      var now = this.snapshot();
      if (now === this.saved) return;
      this.past.push(this.saved); this.saved = now; this.future = [];
      if (this.past.length > 200) this.past.shift();
    }
    restore(state) {
      this.shapes = JSON.parse(state); this.saved = state; this.selected = -1;
      if (this.open !== undefined) this.open = null;
      this.render();
      this.dispatchEvent(new Event("change", { bubbles: true }));
    }
    undo() { if (this.past && this.past.length) { this.future.push(this.saved); this.restore(this.past.pop()); } }
    redo() { if (this.future && this.future.length) { this.past.push(this.saved); this.restore(this.future.pop()); } }
    flash(text) {
      if (!this.warn) return;
      this.warn.textContent = text; this.warn.hidden = false;
      var w = this.warn; clearTimeout(this._flashT); this._flashT = setTimeout(function () { w.hidden = true; }, 4000);
    }
    imageProps() { return { height: this.H, width: this.W }; }
    // Template scripts read the element's answer (AWS keypoint template: .value.keypoints).
    get value() { return this.crowdValue(); }
    get _submittableValue() { return this.crowdValue(); }
    crowdValidate() { return this.W ? null : (this.getAttribute("name") || this.localName) + ": the image has not loaded yet"; }
    scale() { return this.zoom || 1; }
  }

  // crowd-bounding-box --------------------------------------------------------------------
  function normBox(b) {
    return { height: roundInt(b.height), label: String(b.label), left: roundInt(b.left), top: roundInt(b.top), width: roundInt(b.width) };
  }
  class CrowdBoundingBox extends ImageTool {
    hint() { return "Drag on the image to draw a box. Drag a box to move it, its corners or edges to resize it. Pick a label first; to relabel a box, click it, then pick a label."; }
    loadInitial() {
      var init = Array.isArray(this.initial) ? this.initial : [];
      this.shapes = init.map(function (b) { return { label: String(b.label), left: Number(b.left), top: Number(b.top), width: Number(b.width), height: Number(b.height) }; });
      this.initialOut = this.shapes.map(normBox);
      this.render();
    }
    relabel(i, l) { if (this.shapes[i].label === l) return false; this.shapes[i].label = l; this.dispatchEvent(new Event("change", { bubbles: true })); return true; }
    render() {
      if (!this.shapes || !this.W) return;
      var self = this, W = this.W, H = this.H;
      this.layer.textContent = "";
      this.shapes.forEach(function (b, i) {
        var c = self.color(b.label);
        var d = h("div", { class: "cw-box" + (i === self.selected ? " cw-selected" : ""), "data-index": String(i) },
          [h("span", { class: "cw-box-label", text: b.label })]);
        d.style.cssText = "left:" + (b.left / W * 100) + "%;top:" + (b.top / H * 100) + "%;width:" + (b.width / W * 100) + "%;height:" + (b.height / H * 100) + "%;border-color:" + c;
        d.firstChild.style.background = c;
        if (b.top * self.scale() < 20) d.firstChild.classList.add("cw-box-label-inside");  // touching the top edge
        if (i === self.selected) ["nw", "n", "ne", "e", "se", "s", "sw", "w"].forEach(function (k) { d.appendChild(h("span", { class: "cw-handle cw-h-" + k, "data-handle": k })); });
        self.layer.appendChild(d);
      });
      if (this.drawing) {
        var t = this.drawing;
        var g = h("div", { class: "cw-box cw-drawing" });
        g.style.cssText = "left:" + (t.left / W * 100) + "%;top:" + (t.top / H * 100) + "%;width:" + (t.width / W * 100) + "%;height:" + (t.height / H * 100) + "%;border-color:" + this.color(this.current);
        this.layer.appendChild(g);
      }
      var n = this.shapes.length;
      this.countLabel.textContent = n + " box" + (n === 1 ? "" : "es");
    }
    bindPointer() {
      var self = this, drag = null;
      this.layer.addEventListener("pointerdown", function (ev) {
        if (ev.button !== 0 || !self.W) return;
        ev.preventDefault();
        self.wrap.focus({ preventScroll: true });
        var p = self.toImage(ev);
        var handle = ev.target.getAttribute("data-handle");
        var boxEl = ev.target.closest(".cw-box");
        if (handle && self.selected >= 0) {
          drag = { mode: "resize", handle: handle, i: self.selected, start: p, orig: Object.assign({}, self.shapes[self.selected]) };
        } else if (boxEl && boxEl.hasAttribute("data-index")) {
          var i = Number(boxEl.getAttribute("data-index"));
          self.selected = i;
          self.clickSelected = true;
          drag = { mode: "move", i: i, start: p, orig: Object.assign({}, self.shapes[i]) };
          self.render();
        } else {
          self.selected = -1;
          drag = { mode: "draw", start: p };
          self.drawing = { left: p.x, top: p.y, width: 0, height: 0 };
          self.render();
        }
        self.layer.setPointerCapture(ev.pointerId);
      });
      this.layer.addEventListener("pointermove", function (ev) {
        if (!drag) return;
        var p = self.toImage(ev), W = self.W, H = self.H;
        if (Math.abs(p.x - drag.start.x) + Math.abs(p.y - drag.start.y) > 1) self.clickSelected = false;
        if (drag.mode === "draw") {
          self.drawing = { left: Math.min(p.x, drag.start.x), top: Math.min(p.y, drag.start.y), width: Math.abs(p.x - drag.start.x), height: Math.abs(p.y - drag.start.y) };
        } else if (drag.mode === "move") {
          var o = drag.orig, b = self.shapes[drag.i];
          b.left = Math.max(0, Math.min(W - o.width, o.left + p.x - drag.start.x));
          b.top = Math.max(0, Math.min(H - o.height, o.top + p.y - drag.start.y));
        } else {
          var o2 = drag.orig, k = drag.handle, x1 = o2.left, y1 = o2.top, x2 = o2.left + o2.width, y2 = o2.top + o2.height;
          if (k.indexOf("w") >= 0) x1 = p.x; if (k.indexOf("e") >= 0) x2 = p.x;
          if (k.indexOf("n") >= 0) y1 = p.y; if (k.indexOf("s") >= 0) y2 = p.y;
          var bb = self.shapes[drag.i];
          bb.left = Math.min(x1, x2); bb.top = Math.min(y1, y2); bb.width = Math.abs(x2 - x1); bb.height = Math.abs(y2 - y1);
        }
        self.render();
      });
      var end = function () {
        if (!drag) return;
        if (drag.mode === "draw") {
          var d = self.drawing;
          self.drawing = null;
          if (d && d.width * self.scale() >= 3 && d.height * self.scale() >= 3) {
            self.shapes.push({ label: self.current, left: d.left, top: d.top, width: d.width, height: d.height });
            self.selected = self.shapes.length - 1;
            self.clickSelected = false;
          }
        }
        drag = null;
        self.changed();
      };
      this.layer.addEventListener("pointerup", end);
      this.layer.addEventListener("pointercancel", end);
    }
    crowdValue() {
      var out = { boundingBoxes: this.shapes ? this.shapes.map(normBox) : [], inputImageProperties: this.imageProps() };
      if (Array.isArray(this.initial)) out.initialValueModified = JSON.stringify(out.boundingBoxes) !== JSON.stringify(this.initialOut);
      return out;
    }
    // For scripts and tests: add a box in image pixels.
    addBox(b) { this.shapes.push({ label: String(b.label), left: +b.left, top: +b.top, width: +b.width, height: +b.height }); this.changed(); }
  }

  // crowd-keypoint ------------------------------------------------------------------------
  class CrowdKeypoint extends ImageTool {
    hint() { return "Click to place a point with the chosen label. Drag a point to move it; select it and press Delete to remove it."; }
    loadInitial() {
      var init = Array.isArray(this.initial) ? this.initial : [];
      this.shapes = init.map(function (p) { return { label: String(p.label), x: Number(p.x), y: Number(p.y) }; });
      this.render();
    }
    relabel(i, l) { if (this.shapes[i].label === l) return false; this.shapes[i].label = l; return true; }
    render() {
      if (!this.shapes || !this.W) return;
      var self = this;
      this.layer.textContent = "";
      this.shapes.forEach(function (p, i) {
        var d = h("div", { class: "cw-point" + (i === self.selected ? " cw-selected" : ""), "data-index": String(i), title: p.label });
        d.style.cssText = "left:" + (p.x / self.W * 100) + "%;top:" + (p.y / self.H * 100) + "%;background:" + self.color(p.label);
        self.layer.appendChild(d);
      });
      this.countLabel.textContent = this.shapes.length + " point" + (this.shapes.length === 1 ? "" : "s");
    }
    bindPointer() {
      var self = this, drag = null;
      this.layer.addEventListener("pointerdown", function (ev) {
        if (ev.button !== 0 || !self.W) return;
        ev.preventDefault();
        self.wrap.focus({ preventScroll: true });
        var pt = ev.target.closest(".cw-point");
        if (pt) { self.selected = Number(pt.getAttribute("data-index")); self.clickSelected = true; drag = { i: self.selected }; }
        else {
          var p = self.toImage(ev);
          self.shapes.push({ label: self.current, x: p.x, y: p.y });
          self.selected = self.shapes.length - 1;
          self.clickSelected = false;
          self.changed();
        }
        self.render();
        self.layer.setPointerCapture(ev.pointerId);
      });
      this.layer.addEventListener("pointermove", function (ev) {
        if (!drag) return;
        var p = self.toImage(ev);
        self.shapes[drag.i].x = p.x; self.shapes[drag.i].y = p.y;
        self.clickSelected = false;
        self.render();
      });
      this.layer.addEventListener("pointerup", function () { if (drag) { drag = null; self.changed(); } });
    }
    crowdValue() {
      return { inputImageProperties: this.imageProps(),
        keypoints: (this.shapes || []).map(function (p) { return { label: p.label, x: roundInt(p.x), y: roundInt(p.y) }; }) };
    }
    addPoint(p) { this.shapes.push({ label: String(p.label), x: +p.x, y: +p.y }); this.changed(); }
  }

  // crowd-polygon -------------------------------------------------------------------------
  var SVGNS = "http://www.w3.org/2000/svg";
  function s(tag, attrs) { var el = document.createElementNS(SVGNS, tag); for (var k in attrs) el.setAttribute(k, attrs[k]); return el; }
  class CrowdPolygon extends ImageTool {
    closedShape() { return true; }
    minVertices() { return 3; }
    maxVertices() { return Infinity; }
    outputKey() { return "polygons"; }
    hint() { return "Click to add vertices; click the first vertex, double-click or press Enter to close the polygon (3 or more vertices). Esc cancels. Drag a vertex to move it."; }
    makeLayer() { return s("svg", { class: "cw-layer cw-svg", preserveAspectRatio: "none" }); }
    loadInitial() {
      var init = Array.isArray(this.initial) ? this.initial : [];
      this.shapes = init.map(function (p) { return { label: String(p.label), vertices: (p.vertices || []).map(function (v) { return { x: Number(v.x), y: Number(v.y) }; }) }; });
      this.open = null;
      this.layer.setAttribute("viewBox", "0 0 " + this.W + " " + this.H);
      this.render();
    }
    relabel(i, l) { if (this.shapes[i].label === l) return false; this.shapes[i].label = l; return true; }
    cancel() { this.open = null; this.selected = -1; this.render(); }
    enter() { this.close(); return true; }
    close() {
      if (this.open && this.closedShape() && this.open.length >= this.minVertices() && selfIntersects(this.open)) {
        this.flash("A polygon cannot cross itself: move or remove a vertex (Esc cancels).");
        this.render();
        return;
      }
      if (this.open && this.open.length >= this.minVertices()) {
        this.shapes.push({ label: this.current, vertices: this.open });
        this.selected = this.shapes.length - 1;
        this.clickSelected = false;
      }
      this.open = null;
      this.changed();
    }
    render() {
      if (!this.shapes || !this.W) return;
      var self = this, r = 5 / this.scale();
      this.layer.textContent = "";
      var pts = function (vs) { return vs.map(function (v) { return v.x + "," + v.y; }).join(" "); };
      this.shapes.forEach(function (p, i) {
        var c = self.color(p.label);
        var g = s("g", { "data-index": String(i), class: i === self.selected ? "cw-selected" : "" });
        if (self.closedShape()) g.appendChild(s("polygon", { points: pts(p.vertices), fill: c, "fill-opacity": i === self.selected ? "0.35" : "0.2", stroke: c, "stroke-width": String(2 / self.scale()), "data-index": String(i) }));
        else g.appendChild(s("polyline", { points: pts(p.vertices), fill: "none", stroke: c, "stroke-width": String((i === self.selected ? 4 : 3) / self.scale()), "data-index": String(i) }));
        if (i === self.selected) p.vertices.forEach(function (v, j) { g.appendChild(s("circle", { cx: v.x, cy: v.y, r: r, fill: "#fff", stroke: c, "stroke-width": String(1.5 / self.scale()), "data-vertex": String(j), "data-index": String(i) })); });
        self.layer.appendChild(g);
      });
      if (this.open) {
        var c2 = this.color(this.current);
        this.layer.appendChild(s("polyline", { points: pts(this.open), fill: "none", stroke: c2, "stroke-width": String(2 / this.scale()) }));
        this.open.forEach(function (v, j) { self.layer.appendChild(s("circle", { cx: v.x, cy: v.y, r: r, fill: j === 0 ? c2 : "#fff", stroke: c2, "data-open": String(j) })); });
      }
      var noun = this.outputKey().replace(/s$/, "");
      this.countLabel.textContent = this.shapes.length + " " + noun + (this.shapes.length === 1 ? "" : "s") + (this.open ? " (drawing: " + this.open.length + " vertices)" : "");
    }
    bindPointer() {
      var self = this, drag = null;
      this.layer.addEventListener("pointerdown", function (ev) {
        if (ev.button !== 0 || !self.W) return;
        ev.preventDefault();
        self.wrap.focus({ preventScroll: true });
        var t = ev.target, p = self.toImage(ev);
        if (self.open) {
          if (self.closedShape() && t.getAttribute("data-open") === "0" && self.open.length >= 3) { self.close(); return; }
          self.open.push(p);
          if (self.open.length >= self.maxVertices()) self.close(); else self.render();
          return;
        }
        if (t.hasAttribute("data-vertex")) {
          var di = Number(t.getAttribute("data-index")), dj = Number(t.getAttribute("data-vertex"));
          drag = { i: di, j: dj, orig: Object.assign({}, self.shapes[di].vertices[dj]) };
          self.layer.setPointerCapture(ev.pointerId);
          return;
        }
        if (t.hasAttribute("data-index")) { self.selected = Number(t.getAttribute("data-index")); self.clickSelected = true; self.render(); return; }
        self.selected = -1;
        self.open = [p];
        self.render();
      });
      this.layer.addEventListener("dblclick", function (ev) { ev.preventDefault(); if (self.open) { self.open.pop(); self.close(); } });
      this.layer.addEventListener("pointermove", function (ev) {
        if (!drag) return;
        var p = self.toImage(ev);
        self.shapes[drag.i].vertices[drag.j] = p;
        self.render();
      });
      this.layer.addEventListener("pointerup", function () {
        if (!drag) return;
        var shape = self.shapes[drag.i];
        if (self.closedShape() && selfIntersects(shape.vertices)) {
          shape.vertices[drag.j] = drag.orig;  // the move would make it cross itself
          self.flash("A polygon cannot cross itself; the vertex went back.");
        }
        drag = null; self.changed();
      });
    }
    crowdValidate() {
      var base = ImageTool.prototype.crowdValidate.call(this);
      if (base) return base;
      if (this.open && this.open.length) return (this.getAttribute("name") || this.localName) + ": finish or cancel the shape being drawn (Enter / Esc)";
      if (this.closedShape() && (this.shapes || []).some(function (p) { return selfIntersects(p.vertices); })) return (this.getAttribute("name") || this.localName) + ": a polygon crosses itself";
      return null;
    }
    crowdValue() {
      var out = { inputImageProperties: this.imageProps() };
      out[this.outputKey()] = (this.shapes || []).map(function (p) { return { label: p.label, vertices: p.vertices.map(function (v) { return { x: roundInt(v.x), y: roundInt(v.y) }; }) }; });
      return out;
    }
    addPolygon(p) { this.shapes.push({ label: String(p.label), vertices: p.vertices.map(function (v) { return { x: +v.x, y: +v.y }; }) }); this.changed(); }
    addShape(p) { this.addPolygon(p); }
  }
  class CrowdPolyline extends CrowdPolygon {
    closedShape() { return false; }
    minVertices() { return 2; }
    outputKey() { return "polylines"; }
    hint() { return "Click to add vertices; double-click or press Enter to finish the line (2 or more vertices). Esc cancels. Drag a vertex to move it."; }
  }
  class CrowdLine extends CrowdPolyline {
    maxVertices() { return 2; }
    outputKey() { return "lines"; }
    hint() { return "Click the two ends of a line. Esc cancels. Drag an end to move it."; }
  }


  // crowd-entity-annotation ---------------------------------------------------------------
  // {"entities": [{"endOffset", "label", "startOffset"}]}: Unicode code point offsets, end exclusive.
  class CrowdEntityAnnotation extends CrowdElement {
    setup() {
      var self = this;
      var labels = this.json("labels", []);
      if (!Array.isArray(labels)) throw new Error("labels must be a list");
      this.labels = labels.map(function (l) {
        return (l && typeof l === "object") ? { label: String(l.label), name: String(l.fullDisplayName || l.shortDisplayName || l.label) } : { label: String(l), name: String(l) };
      });
      this.current = this.labels.length ? this.labels[0].label : "";
      this.text = this.attr("text", "");
      this.cps = Array.from(this.text);  // code points
      this.u16 = [0];  // code point index -> UTF-16 index
      this.cps.forEach(function (c, i) { self.u16.push(self.u16[i] + c.length); });
      var init = this.json("initial-value", []);
      this.entities = (Array.isArray(init) ? init : []).map(function (e) { return { label: String(e.label), startOffset: Number(e.startOffset), endOffset: Number(e.endOffset) }; });
      this.selected = -1;
      var instr = instructionsPanel(this);
      var main = h("div", { class: "cw-main" });
      if (this.getAttribute("header")) main.appendChild(h("div", { class: "cw-header", text: this.getAttribute("header") }));
      this.box = h("div", { class: "cw-entity-text", tabindex: "0" });
      main.appendChild(this.box);
      var side = h("div", { class: "cw-side" }, [h("div", { class: "cw-side-title", text: "Labels" })]);
      var list = h("div", { class: "cw-labels" });
      this.labelButtons = this.labels.map(function (l, i) {
        var b = h("button", { type: "button", class: "cw-label", "data-cw-internal": "", "data-label": l.label },
          [h("span", { class: "cw-swatch" }), h("kbd", { text: i < 9 ? String(i + 1) : "" }), h("span", { text: l.name })]);
        b.firstChild.style.background = self.color(l.label);
        b.addEventListener("click", function () { self.pickLabel(l.label); });
        list.appendChild(b);
        return b;
      });
      side.appendChild(list);
      side.appendChild(h("div", { class: "cw-hint", text: "Pick a label, then select text to tag it. Click a tag and press Delete to remove it." }));
      if (instr) side.appendChild(instr);
      this.appendChild(h("div", { class: "cw-tool" }, [main, side]));
      this.box.addEventListener("mouseup", function () { self.fromSelection(); });
      this.box.addEventListener("click", function (ev) {
        var m = ev.target.closest(".cw-entity");
        self.selected = m ? Number(m.getAttribute("data-index")) : -1;
        self.render();
      });
      this.pickLabel(this.current);
      this.render();
      registerKeys(this);
      // AWS: crowd-entity-annotation submits itself and must not be wrapped in a crowd-form.
      if (!this.closest("crowd-form")) {
        var submit = h("button", { type: "button", class: "cw-btn cw-primary cw-self-submit", "data-cw-internal": "", text: "Submit" });
        submit.addEventListener("click", function () { self.submitTask(); });
        this.appendChild(h("div", { class: "cw-self-submit-bar" }, [submit]));
        // As in GT, its own form lives in an open shadow root: templates add questions with
        // el.shadowRoot.querySelector('crowd-form').form.appendChild(...), and they are submitted too.
        if (this.attachShadow && !this.shadowRoot) {
          var root = this.attachShadow({ mode: "open" });
          root.appendChild(document.createElement("slot"));
          if (SCRIPT_SRC) {
            root.appendChild(h("link", { rel: "stylesheet", href: SCRIPT_SRC.replace(/crowd-html-elements(-v\d+)?\.js(\?.*)?$/, "crowd-elements.css") }));
          }
          this.shim = document.createElement("crowd-form");
          this.shim.setAttribute("data-cw-shim", "");
          root.appendChild(this.shim);
        }
      }
    }
    // The self-submitting form: {"<name>": {"entities": [...]}} through the same event a crowd-form uses.
    submitTask() {
      var ev = new Event("submit", { cancelable: true });
      if (!this.dispatchEvent(ev)) return false;
      var answer = this.shim ? collect(this.shim) : {};
      answer[this.getAttribute("name") || "crowd-entity-annotation"] = this.crowdValue();
      var handled = !document.dispatchEvent(new CustomEvent("crowd-form-submit", { cancelable: true, detail: { answer: answer, form: this } }));
      if (!handled) {
        var pre = this.querySelector(".cw-preview-output") || h("pre", { class: "cw-preview-output" });
        pre.textContent = JSON.stringify([answer], null, 2);
        this.appendChild(pre);
      }
      return true;
    }
    color(label) { var i = this.labels.map(function (l) { return l.label; }).indexOf(label); return PALETTE[(i < 0 ? 0 : i) % PALETTE.length]; }
    pickLabel(l) {
      this.current = l;
      this.labelButtons.forEach(function (b) { b.classList.toggle("cw-on", b.getAttribute("data-label") === l); });
    }
    cpIndex(u16) { var i = 0; while (i < this.cps.length && this.u16[i] < u16) i++; return i; }
    // UTF-16 offset of (node, offset) inside the text box
    offsetOf(node, offset) {
      var r = document.createRange();
      r.setStart(this.box, 0);
      r.setEnd(node, offset);
      return r.toString().length;
    }
    fromSelection() {
      var sel = window.getSelection();
      if (!sel || sel.isCollapsed || !sel.rangeCount) return;
      var rg = sel.getRangeAt(0);
      if (!this.box.contains(rg.startContainer) || !this.box.contains(rg.endContainer)) return;
      var a = this.cpIndex(this.offsetOf(rg.startContainer, rg.startOffset));
      var b = this.cpIndex(this.offsetOf(rg.endContainer, rg.endOffset));
      while (a < b && /\s/.test(this.cps[a])) a++;
      while (b > a && /\s/.test(this.cps[b - 1])) b--;
      sel.removeAllRanges();
      this.addEntity({ label: this.current, startOffset: a, endOffset: b });
    }
    addEntity(e) {
      if (!(e.endOffset > e.startOffset)) return false;
      var clash = this.entities.some(function (o) { return e.startOffset < o.endOffset && o.startOffset < e.endOffset; });
      if (clash) return false;
      this.entities.push({ label: String(e.label), startOffset: +e.startOffset, endOffset: +e.endOffset });
      this.entities.sort(function (x, y) { return x.startOffset - y.startOffset; });
      this.selected = -1;
      this.render();
      this.dispatchEvent(new Event("change", { bubbles: true }));
      return true;
    }
    render() {
      var self = this, pos = 0;
      this.box.textContent = "";
      this.entities.forEach(function (e, i) {
        if (e.startOffset > pos) self.box.appendChild(document.createTextNode(self.cps.slice(pos, e.startOffset).join("")));
        var m = h("mark", { class: "cw-entity" + (i === self.selected ? " cw-selected" : ""), "data-index": String(i), "data-label": e.label, title: e.label },
          [self.cps.slice(e.startOffset, e.endOffset).join("")]);
        m.style.background = self.color(e.label) + "33";
        m.style.borderBottomColor = self.color(e.label);
        self.box.appendChild(m);
        pos = Math.max(pos, e.endOffset);
      });
      if (pos < this.cps.length) this.box.appendChild(document.createTextNode(this.cps.slice(pos).join("")));
    }
    handleKey(ev) {
      if (/^[1-9]$/.test(ev.key)) { var l = this.labels[Number(ev.key) - 1]; if (l) this.pickLabel(l.label); return true; }
      if ((ev.key === "Delete" || ev.key === "Backspace") && this.selected >= 0) {
        this.entities.splice(this.selected, 1); this.selected = -1; this.render(); return true;
      }
      return false;
    }
    crowdValue() {
      return { entities: this.entities.map(function (e) { return { endOffset: e.endOffset, label: e.label, startOffset: e.startOffset }; }) };
    }
  }

  // crowd-semantic-segmentation ------------------------------------------------------------
  // {"inputImageProperties", "labelMappings": {"<label>": {"color": "#hex"}},
  //  "labeledImage": {"pngImageData": "<base64 PNG>"}, "initialValueModified"?}
  var CATEGORY10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  function hexRgb(hex) { var n = parseInt(hex.slice(1), 16); return [(n >> 16) & 255, (n >> 8) & 255, n & 255]; }
  class CrowdSemanticSegmentation extends ImageTool {
    hint() { return "Paint over each object with its label. E toggles the eraser, [ and ] change the brush size."; }
    color(label) { var i = this.labels.indexOf(label); return CATEGORY10[(i < 0 ? 0 : i) % CATEGORY10.length]; }
    makeLayer() { return h("canvas", { class: "cw-layer cw-paint" }); }
    loadInitial() {
      var self = this;
      this.layer.width = this.W; this.layer.height = this.H;
      this.ctx = this.layer.getContext("2d", { willReadFrequently: true });
      this.ctx.imageSmoothingEnabled = false;
      this.data = this.ctx.createImageData(this.W, this.H);
      this.brush = Math.max(3, Math.round(Math.min(this.W, this.H) / 60));
      this.eraser = false;
      this.modified = false;
      this.shapes = [];
      var tb = this.querySelector(".cw-toolbar");
      this.brushLabel = h("span", { class: "cw-zoom" });
      var er = h("button", { type: "button", class: "cw-btn", "data-cw-internal": "", text: "Eraser (E)" });
      er.addEventListener("click", function () { self.setEraser(!self.eraser); });
      this.eraserButton = er;
      tb.appendChild(er); tb.appendChild(this.brushLabel);
      this.updateBrush();
      var init = this.initial;
      if (init && typeof init === "object" && init.src) {
        var im = new Image();
        im.onload = function () { self.ctx.drawImage(im, 0, 0); self.data = self.ctx.getImageData(0, 0, self.W, self.H); };
        im.src = init.src;
      }
    }
    setEraser(on) { this.eraser = on; this.eraserButton.classList.toggle("cw-on", on); }
    paintColor() { return this.color(this.current); }
    updateBrush() { this.brushLabel.textContent = "brush " + this.brush + " px"; }
    relabel() { return false; }
    render() {}
    deleteSelected() {}
    stamp(cx, cy) {
      var r = this.brush, W = this.W, H = this.H, d = this.data.data;
      var rgb = hexRgb(this.paintColor()), a = this.eraser ? 0 : 255;
      var x0 = Math.max(0, Math.floor(cx - r)), x1 = Math.min(W - 1, Math.ceil(cx + r));
      var y0 = Math.max(0, Math.floor(cy - r)), y1 = Math.min(H - 1, Math.ceil(cy + r));
      for (var y = y0; y <= y1; y++) for (var x = x0; x <= x1; x++) {
        var dx = x + 0.5 - cx, dy = y + 0.5 - cy;
        if (dx * dx + dy * dy > r * r) continue;
        var o = (y * W + x) * 4;
        if (a) { d[o] = rgb[0]; d[o + 1] = rgb[1]; d[o + 2] = rgb[2]; d[o + 3] = 255; } else { d[o] = d[o + 1] = d[o + 2] = d[o + 3] = 0; }
      }
      this.ctx.putImageData(this.data, 0, 0, x0, y0, x1 - x0 + 1, y1 - y0 + 1);
      this.modified = true;
    }
    strokeTo(p) {
      var last = this.last || p;
      var dist = Math.hypot(p.x - last.x, p.y - last.y), step = Math.max(1, this.brush / 2);
      for (var t = step; t < dist; t += step) this.stamp(last.x + (p.x - last.x) * t / dist, last.y + (p.y - last.y) * t / dist);
      this.stamp(p.x, p.y);
      this.last = p;
    }
    bindPointer() {
      var self = this, painting = false;
      this.layer.addEventListener("pointerdown", function (ev) {
        if (ev.button !== 0 || !self.W) return;
        ev.preventDefault();
        self.wrap.focus({ preventScroll: true });
        painting = true; self.last = null;
        self.strokeTo(self.toImage(ev));
        self.layer.setPointerCapture(ev.pointerId);
      });
      this.layer.addEventListener("pointermove", function (ev) { if (painting) self.strokeTo(self.toImage(ev)); });
      var end = function () { if (painting) { painting = false; self.last = null; self.dispatchEvent(new Event("change", { bubbles: true })); } };
      this.layer.addEventListener("pointerup", end);
      this.layer.addEventListener("pointercancel", end);
    }
    handleKey(ev) {
      if (ev.key === "e" || ev.key === "E") { this.setEraser(!this.eraser); return true; }
      if (ev.key === "[") { this.brush = Math.max(1, Math.round(this.brush / 1.4)); this.updateBrush(); return true; }
      if (ev.key === "]") { this.brush = Math.min(500, Math.round(this.brush * 1.4) + 1); this.updateBrush(); return true; }
      return ImageTool.prototype.handleKey.call(this, ev);
    }
    crowdValue() {
      if (!this.W) return undefined;
      var used = {}, d = this.data.data, self = this;
      var byColor = {};
      this.labels.forEach(function (l) { byColor[self.color(l).slice(1)] = l; });
      for (var o = 0; o < d.length; o += 4) {
        if (!d[o + 3]) continue;
        var hex = ((1 << 24) | (d[o] << 16) | (d[o + 1] << 8) | d[o + 2]).toString(16).slice(1);
        if (byColor[hex] !== undefined) used[byColor[hex]] = true;
      }
      var mappings = {};
      this.labels.forEach(function (l) { if (used[l]) mappings[l] = { color: self.color(l) }; });
      var out = { inputImageProperties: this.imageProps(), labelMappings: mappings,
        labeledImage: { pngImageData: this.layer.toDataURL("image/png").split(",")[1] } };
      if (this.initial && typeof this.initial === "object") out.initialValueModified = !!this.modified;
      return out;
    }
  }
  // crowd-instance-segmentation ------------------------------------------------------------
  // {"inputImageProperties", "instances": [{"color": "#hex", "label"}], "labeledImage": {"pngImageData"}}:
  // each instance gets its own exact color; only instances that were painted are listed.
  function instanceColor(i) {
    if (i < CATEGORY10.length) return CATEGORY10[i];
    var hue = (i * 137.508) % 360, l = 0.45 + 0.1 * ((i >> 3) % 2);  // golden-angle hues beyond the palette
    var k = function (n) { var a = 0.65 * Math.min(l, 1 - l), t = (n + hue / 30) % 12; return l - a * Math.max(-1, Math.min(t - 3, 9 - t, 1)); };
    return "#" + [k(0), k(8), k(4)].map(function (v) { return ("0" + Math.round(v * 255).toString(16)).slice(-2); }).join("");
  }
  class CrowdInstanceSegmentation extends CrowdSemanticSegmentation {
    hint() { return "Pick a label and paint one object; N (or New instance) starts the next object of that label. E toggles the eraser, [ and ] change the brush size."; }
    loadInitial() {
      CrowdSemanticSegmentation.prototype.loadInitial.call(this);
      var self = this;
      this.instances = [];
      this.currentInstance = -1;
      var tb = this.querySelector(".cw-toolbar");
      var nb = h("button", { type: "button", class: "cw-btn", "data-cw-internal": "", text: "New instance (N)" });
      nb.addEventListener("click", function () { self.newInstance(); });
      this.instanceLabel = h("span", { class: "cw-zoom" });
      tb.appendChild(nb); tb.appendChild(this.instanceLabel);
      this.showInstance();
    }
    newInstance() {
      var used = {};
      this.instances.forEach(function (x) { used[x.color] = true; });
      var i = 0;
      while (used[instanceColor(i)]) i++;
      this.instances.push({ label: this.current, color: instanceColor(i) });
      this.currentInstance = this.instances.length - 1;
      this.showInstance();
    }
    showInstance() {
      if (!this.instanceLabel) return;
      var x = this.instances[this.currentInstance];
      this.instanceLabel.textContent = x ? x.label + " #" + (this.instances.filter(function (y) { return y.label === x.label; }).indexOf(x) + 1) : "no instance yet";
      if (x) this.instanceLabel.style.color = x.color;
    }
    pickLabel(l) {
      ImageTool.prototype.pickLabel.call(this, l);
      var x = this.instances && this.instances[this.currentInstance];
      if (x && x.label !== l) this.currentInstance = -1;  // the next stroke starts an instance of l
      this.showInstance();
    }
    paintColor() {
      if (this.currentInstance < 0) this.newInstance();
      return this.instances[this.currentInstance].color;
    }
    handleKey(ev) {
      if (ev.key === "n" || ev.key === "N") { this.newInstance(); return true; }
      return CrowdSemanticSegmentation.prototype.handleKey.call(this, ev);
    }
    crowdValue() {
      if (!this.W) return undefined;
      var used = {}, d = this.data.data;
      for (var o = 0; o < d.length; o += 4) {
        if (!d[o + 3]) continue;
        used["#" + ((1 << 24) | (d[o] << 16) | (d[o + 1] << 8) | d[o + 2]).toString(16).slice(1)] = true;
      }
      return { inputImageProperties: this.imageProps(),
        instances: this.instances.filter(function (x) { return used[x.color]; }).map(function (x) { return { color: x.color, label: x.label }; }),
        labeledImage: { pngImageData: this.layer.toDataURL("image/png").split(",")[1] } };
    }
  }

  // ---------------------------------------------------------------------------------------
  class Region extends HTMLElement {}
  class UnsupportedElement extends HTMLElement {
    connectedCallback() {
      if (this._crowdReady) return;
      this._crowdReady = true;
      this.insertBefore(notice("<" + this.localName + "> is not implemented by the local portal; this task cannot be answered here."), this.firstChild);
    }
  }

  var ELEMENTS = {
    "crowd-form": CrowdForm,
    "crowd-button": CrowdButton,
    "crowd-icon-button": CrowdIconButton,
    "crowd-fab": CrowdFab,
    "crowd-badge": CrowdBadge,
    "crowd-card": CrowdCard,
    "crowd-alert": CrowdAlert,
    "crowd-toast": CrowdToast,
    "crowd-instructions": CrowdInstructions,
    "crowd-modal": CrowdModal,
    "crowd-tabs": CrowdTabs,
    "crowd-tab": CrowdTab,
    "crowd-checkbox": CrowdCheckbox,
    "crowd-toggle-button": CrowdToggleButton,
    "crowd-radio-group": CrowdRadioGroup,
    "crowd-radio-button": CrowdRadioButton,
    "crowd-input": CrowdInput,
    "crowd-text-area": CrowdTextArea,
    "crowd-slider": CrowdSlider,
    "crowd-classifier": CrowdClassifier,
    "crowd-classifier-multi-select": CrowdClassifierMulti,
    "crowd-image-classifier": CrowdImageClassifier,
    "crowd-image-classifier-multi-select": CrowdImageClassifierMulti,
    "crowd-bounding-box": CrowdBoundingBox,
    "crowd-keypoint": CrowdKeypoint,
    "crowd-polygon": CrowdPolygon,
    "crowd-polyline": CrowdPolyline,
    "crowd-line": CrowdLine,
    "crowd-entity-annotation": CrowdEntityAnnotation,
    "crowd-semantic-segmentation": CrowdSemanticSegmentation,
    "crowd-instance-segmentation": CrowdInstanceSegmentation,
  };
  ["short-instructions", "full-instructions", "classification-target", "worker-comment", "short-summary",
    "detailed-instructions", "positive-example", "negative-example"].forEach(function (n) {
    if (!customElements.get(n)) customElements.define(n, class extends Region {});
  });
  UNSUPPORTED.forEach(function (n) { if (!customElements.get(n)) customElements.define(n, class extends UnsupportedElement {}); });

  // Styles next to this script (crowd-elements.css), unless the page already has them.
  if (SCRIPT_SRC && !document.querySelector('link[href$="crowd-elements.css"]')) {
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = SCRIPT_SRC.replace(/crowd-html-elements\.js(\?.*)?$/, "crowd-elements.css");
    document.head.appendChild(link);
  }

  Object.keys(ELEMENTS).forEach(function (n) { if (!customElements.get(n)) customElements.define(n, ELEMENTS[n]); });
  // GT fires this once every element is upgraded; template scripts wait for it.
  setTimeout(function () { document.dispatchEvent(new Event("all-crowd-elements-ready")); }, 0);

  // Unknown crowd-* elements: a visible notice instead of a blank.
  function flagUnknown(root) {
    var all = (root || document).querySelectorAll("*");
    for (var i = 0; i < all.length; i++) {
      var n = all[i].localName;
      if (n.indexOf("crowd-") === 0 && !customElements.get(n) && !all[i]._crowdFlagged) {
        all[i]._crowdFlagged = true;
        all[i].classList.add("cw-unknown");
        all[i].insertBefore(notice("<" + n + "> is not a Crowd HTML Element the local portal knows; it is shown as plain content."), all[i].firstChild);
      }
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { flagUnknown(); });
  else flagUnknown();

  window.crowdElements = { parseLoose: parseLoose, collect: collect, supported: Object.keys(ELEMENTS), unsupported: UNSUPPORTED.slice() };
})();
