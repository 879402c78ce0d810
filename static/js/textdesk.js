// textdesk: small progressive enhancements only (no build step, CSP-safe: no inline code).
(function () {
  "use strict";

  // Colours from data attributes (inline style attributes are blocked by our CSP).
  function paintColours(root) {
    root.querySelectorAll("[data-color]").forEach(function (el) {
      var colour = el.getAttribute("data-color");
      if (/^#?[0-9a-zA-Z(),.% ]{1,40}$/.test(colour)) {
        el.style.setProperty("--chip", colour.charAt(0) === "#" || /^[a-z]+$/i.test(colour) ? colour : "#" + colour);
      }
    });
  }

  // Flash messages fade after a while; errors stay until dismissed by a click.
  function settleFlashes(root) {
    root.querySelectorAll(".flash:not(.flash-error)").forEach(function (el) {
      setTimeout(function () { el.remove(); }, 6000);
    });
    root.querySelectorAll(".flash-error").forEach(function (el) {
      el.addEventListener("click", function () { el.remove(); });
    });
  }

  // A live "n of max characters" count after fields that carry data-maxcount (case notes).
  function countCharacters(root) {
    root.querySelectorAll("[data-maxcount]").forEach(function (field) {
      if (field.dataset.counted) { return; }
      field.dataset.counted = "1";
      var out = document.createElement("span");
      out.className = "char-count muted small";
      out.setAttribute("aria-live", "polite");
      field.insertAdjacentElement("afterend", out);
      var update = function () {
        var n = field.value.length, max = Number(field.dataset.maxcount);
        out.textContent = n + " of " + max + " characters";
        out.classList.toggle("text-danger", n > max);
      };
      field.addEventListener("input", update);
      update();
    });
  }

  // Phones: the main navigation folds into a menu button; filter panels start closed unless
  // a filter is in use (wide screens always show them open; the summary is hidden there).
  var phone = window.matchMedia("(max-width: 720px)");
  function setUpMenu() {
    var bar = document.querySelector(".topbar");
    var button = bar && bar.querySelector("[data-action=toggle-menu]");
    if (!button) { return; }
    bar.classList.add("has-menu");
    button.addEventListener("click", function () {
      var open = bar.classList.toggle("menu-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && bar.classList.contains("menu-open")) {
        bar.classList.remove("menu-open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }
  function foldFilters(root) {
    if (!phone.matches) { return; }
    root.querySelectorAll("details.filter-panel:not([data-active])").forEach(function (el) {
      el.open = false;
    });
  }

  // A table that scrolls sideways must be reachable by keyboard to scroll it (WCAG 2.1.1).
  function focusableScrollers() {
    document.querySelectorAll(".table-wrap").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1) {
        el.setAttribute("tabindex", "0");
        if (!el.hasAttribute("role")) { el.setAttribute("role", "region"); }
        if (!el.hasAttribute("aria-label")) {
          var caption = el.querySelector("caption");
          el.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table (scrolls sideways)");
        }
      } else if (el.getAttribute("tabindex") === "0") {
        el.removeAttribute("tabindex");
      }
    });
  }
  window.addEventListener("resize", focusableScrollers);

  function enhance(root) {
    focusableScrollers();
    paintColours(root);
    settleFlashes(root);
    countCharacters(root);
  }

  // Browser notifications: permission is asked once, from a click (Preferences or the inbox).
  function showNotificationState() {
    var state = !("Notification" in window) ? "This browser has no notifications."
      : Notification.permission === "granted" ? "Allowed."
      : Notification.permission === "denied" ? "Blocked in this browser's site settings." : "";
    document.querySelectorAll("[data-notification-state]").forEach(function (el) { el.textContent = state; });
    document.querySelectorAll("[data-action=ask-notifications]").forEach(function (el) {
      el.hidden = !("Notification" in window) || Notification.permission !== "default";
    });
  }
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("[data-action=ask-notifications]")) { return; }
    if ("Notification" in window) { Notification.requestPermission().then(showNotificationState); }
  });

  // "/" focuses search when not typing: the search page's own box, else the top bar's. The
  // inbox keeps "/" for its own list search (inbox.js).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) { return; }
    if (document.body.getAttribute("data-shortcuts") !== "on" || event.defaultPrevented) { return; }
    if (document.getElementById("conversation-list")) { return; }  // the inbox: inbox.js
    var el = event.target;
    if (el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName))) { return; }
    var box = document.querySelector("[data-search-box]") || document.getElementById("topbar-search");
    if (box) { event.preventDefault(); box.focus(); box.select(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    setUpMenu();
    foldFilters(document);
    enhance(document);
    showNotificationState();
  });
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target); });
  window.textdesk = { enhance: enhance };
})();
