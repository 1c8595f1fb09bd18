// Progressive enhancement for the console. Every page works without it; this
// adds the menu toggle, confirmations, the rule editor's ordering, live-call
// updates (server-sent events) and ticking durations.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function fmt(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function tick() {
    document.querySelectorAll("time[data-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-since"));
      if (!isNaN(since)) el.textContent = fmt((Date.now() - since) / 1000);
    });
  }

  // -- rule editor: targets in order (drag, up/down, add, remove) --------------
  function renumber(list) {
    list.querySelectorAll(".target").forEach(function (li, i) {
      var label = li.querySelector("label"), input = li.querySelector("input");
      if (label) label.textContent = "Target " + (i + 1);
      if (input && !input.id.endsWith("-" + (i + 1))) input.id = input.id.replace(/-\d+$/, "-" + (i + 1));
      if (label && input) label.htmlFor = input.id;
    });
  }

  function changed(el) {
    var form = el.closest("form");
    if (form) form.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function setupTargets(root) {
    root.querySelectorAll("[data-targets]").forEach(function (list) {
      if (list.dataset.ready) return;
      list.dataset.ready = "1";
      var dragged = null;
      list.addEventListener("click", function (e) {
        var btn = e.target.closest("button");
        if (!btn) return;
        var li = btn.closest(".target");
        if (btn.dataset.move === "up" && li.previousElementSibling) list.insertBefore(li, li.previousElementSibling);
        else if (btn.dataset.move === "down" && li.nextElementSibling) list.insertBefore(li.nextElementSibling, li);
        else if (btn.hasAttribute("data-remove")) {
          if (list.children.length > 1) li.remove(); else li.querySelector("input").value = "";
        } else return;
        renumber(list); btn.focus(); changed(list);
      });
      list.addEventListener("dragstart", function (e) {
        dragged = e.target.closest(".target"); if (dragged) dragged.classList.add("dragging");
      });
      list.addEventListener("dragend", function () {
        if (dragged) dragged.classList.remove("dragging"); dragged = null; renumber(list); changed(list);
      });
      list.addEventListener("dragover", function (e) {
        if (!dragged) return;
        e.preventDefault();
        var over = e.target.closest(".target");
        if (!over || over === dragged) return;
        var box = over.getBoundingClientRect();
        list.insertBefore(dragged, e.clientY < box.top + box.height / 2 ? over : over.nextSibling);
      });
      var add = list.parentElement.querySelector("[data-add-target]");
      if (add) add.addEventListener("click", function () {
        var last = list.lastElementChild, copy = last.cloneNode(true);
        copy.querySelector("input").value = "";
        list.appendChild(copy); renumber(list); copy.querySelector("input").focus();
      });
    });
  }

  // -- live calls over server-sent events ----------------------------------------
  function setupLive() {
    var body = document.querySelector("[data-live-stream]");
    if (!body || !window.EventSource) return;
    var state = document.querySelector("[data-stream-state]");
    var source = new EventSource(body.getAttribute("data-live-stream"));
    source.addEventListener("calls", function (e) {
      body.innerHTML = e.data;
      if (window.htmx) window.htmx.process(body);
      tick();
    });
    source.onopen = function () { if (state) { state.textContent = "Live"; state.classList.add("on"); } };
    source.onerror = function () { if (state) { state.textContent = "Reconnecting…"; state.classList.remove("on"); } };
  }

  ready(function () {
    var toggle = document.querySelector("[data-nav-toggle]");
    if (toggle) toggle.addEventListener("click", function () {
      var nav = document.getElementById("sidebar");
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
    document.addEventListener("submit", function (e) {
      var msg = e.target.getAttribute("data-confirm");
      if (msg && !window.confirm(msg)) e.preventDefault();
    });
    document.addEventListener("click", function (e) {
      var btn = e.target.closest("[data-copy]");
      if (!btn) return;
      var el = document.querySelector(btn.getAttribute("data-copy"));
      if (el && navigator.clipboard) navigator.clipboard.writeText(el.textContent.trim()).then(function () { btn.textContent = "Copied"; });
    });
    setupTargets(document);
    setupLive();
    tick();
    setInterval(tick, 1000);
    document.body.addEventListener("htmx:afterSwap", function (e) { setupTargets(e.target); tick(); });
  });
})();
